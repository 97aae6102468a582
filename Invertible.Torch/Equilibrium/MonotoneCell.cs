using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// A monotone-operator equilibrium cell (Winston &amp; Kolter, monDEQ): z* = ReLU(W z* + U x + b) with
/// W = (1 − m) I − AᵀA + B − Bᵀ, so I − W ⪰ m I and the equilibrium exists and is unique for every A, B.
/// </summary>
/// <remarks>
/// The equilibrium is found as the fixed point of the forward–backward splitting map
/// f(z, x) = ReLU((1 − α) z + α (W z + U x + b)), which has the same fixed points and converges for
/// α ≤ 2m / ‖I − W‖² (α is a constructor argument; the default suits the default initialisation).
/// </remarks>
public sealed class MonotoneCell : nn.Module<Tensor, Tensor, Tensor>, IEquilibriumFunction
{
    private readonly Parameter a, b;
    private readonly Linear injection;

    /// <summary>Creates the cell with monotonicity m and splitting step α.</summary>
    public MonotoneCell(int stateFeatures, int inputFeatures, double monotonicity = 0.5, double step = 0.5,
        ScalarType dtype = ScalarType.Float32, Generator? generator = null) : base(nameof(MonotoneCell))
    {
        if (!(monotonicity > 0 && monotonicity < 1)) throw new ArgumentOutOfRangeException(nameof(monotonicity), monotonicity, "Must lie in (0, 1).");
        if (!(step > 0 && step <= 1)) throw new ArgumentOutOfRangeException(nameof(step), step, "Must lie in (0, 1].");
        StateFeatures = stateFeatures;
        InputFeatures = inputFeatures;
        Monotonicity = monotonicity;
        Step = step;
        var scale = 1.0 / Math.Sqrt(stateFeatures);
        a = new Parameter(randn([stateFeatures, stateFeatures], dtype: dtype, generator: generator).mul_(0.5 * scale));
        b = new Parameter(randn([stateFeatures, stateFeatures], dtype: dtype, generator: generator).mul_(0.5 * scale));
        injection = nn.Linear(inputFeatures, stateFeatures, dtype: dtype);
        Initialization.Linear(injection, generator);
        RegisterComponents();
    }

    /// <inheritdoc />
    public int StateFeatures { get; }

    /// <inheritdoc />
    public int InputFeatures { get; }

    /// <summary>m: I − W ⪰ m I.</summary>
    public double Monotonicity { get; }

    /// <summary>α of the splitting map.</summary>
    public double Step { get; }

    /// <summary>The injection x ↦ U x + b.</summary>
    public Linear Injection => injection;

    /// <summary>W = (1 − m) I − AᵀA + B − Bᵀ.</summary>
    public Tensor Weight()
        => eye(StateFeatures, dtype: a.dtype, device: a.device).mul(1 - Monotonicity).sub(a.t().mm(a)).add(b).sub(b.t());

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters()
    {
        yield return Weight();
        yield return injection.weight!;
        yield return injection.bias!;
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor state, Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var affine = addmm(parameters[2], input, parameters[1].t(), 1, 1).add_(state.mm(parameters[0].t()));
        return nn.functional.relu(state.mul(1 - Step).add_(affine.mul_(Step)));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor state, Tensor input) => Apply(state, input, EffectiveParameters().ToArray());
}
