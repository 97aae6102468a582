using Invertible.Torch.Core;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// A monotone-operator equilibrium cell (Winston &amp; Kolter, monDEQ): z* = ReLU(W z* + U x + b) with
/// W = (1 − m) I − AᵀA + B − Bᵀ, so I − W ⪰ m I and the equilibrium exists and is unique for every A, B.
/// </summary>
/// <remarks>
/// The cell's state is the variable s of Peaceman–Rachford splitting, T(s) = 2V(|s| + α b̃) − |s| with
/// V = (I + α(I − W))⁻¹ and b̃ = U x + b (<see cref="MonotoneSplitting"/>), whose fixed point gives z* = ReLU(s*) (<see cref="Output"/>): a contraction for
/// every α &gt; 0 because I − W is strongly monotone, where the forward–backward map ReLU((1 − α) z + α(W z + b̃)) is
/// guaranteed only for α ≤ 2m / ‖I − W‖², which trained weights exceed. α = 1 / ‖I − W‖₂: exact (once per weight
/// version) in evaluation, tracked by one power-iteration step per call in training — any α &gt; 0 has the same fixed
/// point, so the estimate only sets the speed. The ONNX graph iterates the same map.
/// </remarks>
public sealed class MonotoneCell : nn.Module<Tensor, Tensor, Tensor>, IEquilibriumFunction
{
    private readonly Parameter a, b;
    private readonly Linear injection;
    private readonly VersionedCache<Tensor[]> evaluation = new();
    private Tensor? powerVector;

    /// <summary>Creates the cell with monotonicity m.</summary>
    public MonotoneCell(int stateFeatures, int inputFeatures, double monotonicity = 0.5, ScalarType dtype = ScalarType.Float32, Generator? generator = null)
        : base(nameof(MonotoneCell))
    {
        if (stateFeatures < 1) throw new ArgumentOutOfRangeException(nameof(stateFeatures), stateFeatures, "Must be at least 1.");
        if (inputFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inputFeatures), inputFeatures, "Must be at least 1.");
        if (!(monotonicity > 0 && monotonicity < 1)) throw new ArgumentOutOfRangeException(nameof(monotonicity), monotonicity, "Must lie in (0, 1).");
        StateFeatures = stateFeatures;
        InputFeatures = inputFeatures;
        Monotonicity = monotonicity;
        var scale = 1.0 / Math.Sqrt(stateFeatures);
        a = new Parameter(randn([stateFeatures, stateFeatures], dtype: dtype, generator: generator).MulInPlace(0.5 * scale));
        b = new Parameter(randn([stateFeatures, stateFeatures], dtype: dtype, generator: generator).MulInPlace(0.5 * scale));
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

    /// <summary>The injection x ↦ U x + b.</summary>
    public Linear Injection => injection;

    /// <summary>W = (1 − m) I − AᵀA + B − Bᵀ.</summary>
    public Tensor Weight()
        => eye(StateFeatures, dtype: a.dtype, device: a.device).Mul(1 - Monotonicity).sub(a.t().mm(a)).Add(b).sub(b.t());

    /// <summary>[V, U, b, α]: the resolvent V = (I + α(I − W))⁻¹ (differentiable in A and B), the injection, and α (a constant).</summary>
    public IEnumerable<Tensor> EffectiveParameters()
    {
        var sources = new Tensor?[] { a, b, injection.weight, injection.bias };
        if (!training && !is_grad_enabled() && VersionedCache<Tensor[]>.Enabled && evaluation.TryGet(sources) is { } cached)
            return cached;
        var complement = eye(StateFeatures, dtype: a.dtype, device: a.device).sub(Weight());
        var step = 1 / Norm(complement);
        var resolvent = linalg.inv(eye(StateFeatures, dtype: a.dtype, device: a.device).Add(complement.Mul(step)));
        Tensor[] parameters = [resolvent, injection.weight!, injection.bias!, tensor(step, dtype: a.dtype, device: a.device)];
        if (!training && !is_grad_enabled() && VersionedCache<Tensor[]>.Enabled)
            return evaluation.Store(sources, [.. parameters.Select(p => p.detach().DetachFromDisposeScope())]);
        return parameters;
    }

    /// <summary>‖I − W‖₂: exact in evaluation; in training one power-iteration step from the previous call's vector.</summary>
    private double Norm(Tensor complement)
    {
        using var _ = no_grad();
        if (!training)
            return HeldScalars.SpectralNorm(complement.detach()).ReadDouble();
        using var scope = NewDisposeScope();
        var m = complement.detach();
        var v = powerVector is { } previous && previous.dtype == m.dtype && previous.device == m.device ? previous : ones(StateFeatures, dtype: m.dtype, device: m.device);
        var u = m.mv(v);
        var sigma = u.norm().ReadDouble();
        var next = m.t().mv(u);
        var length = next.norm().ReadDouble();
        if (length > 0 && double.IsFinite(length))
        {
            powerVector?.Dispose();
            powerVector = next.Div(length).DetachFromDisposeScope();
        }
        // σ from one step underestimates ‖I − W‖₂ (never below m), which only makes α larger: still a contraction.
        return Math.Max(sigma / Math.Max(v.norm().ReadDouble(), 1e-30), Monotonicity);
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor state, Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var (resolvent, weight, bias, step) = (parameters[0], parameters[1], parameters[2], parameters[3]);
        var transposed = resolvent.t();
        return MonotoneSplitting.Step(state, addmm(bias, input, weight.t(), 1, 1).mul(step), r => r.mm(transposed));
    }

    /// <inheritdoc />
    public Func<Tensor, Tensor> IterationMap(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var (resolvent, weight, bias, step) = (parameters[0], parameters[1], parameters[2], parameters[3]);
        var transposed = resolvent.t();
        return MonotoneSplitting.IterationMap(addmm(bias, input, weight.t(), 1, 1).mul(step), r => r.mm(transposed));
    }

    /// <summary>z* = ReLU(s*).</summary>
    public Tensor Output(Tensor state) => nn.functional.relu(state);

    /// <inheritdoc />
    public override Tensor forward(Tensor state, Tensor input) => Apply(state, input, EffectiveParameters().ToArray());
}
