using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// The default equilibrium cell f(z, x) = φ(W z + U x + b) with W spectrally normalised to ‖W‖ ≤ c &lt; 1 and φ
/// 1-Lipschitz: f is a contraction in z, so the fixed point exists, is unique, and every solver finds it.
/// </summary>
public sealed class EquilibriumCell : nn.Module<Tensor, Tensor, Tensor>, IEquilibriumFunction
{
    private readonly SpectralNormLinear recurrent;
    private readonly Linear injection;
    private readonly nn.Module<Tensor, Tensor> activation;

    /// <summary>Creates the cell.</summary>
    /// <param name="stateFeatures">Width of z.</param>
    /// <param name="inputFeatures">Width of x.</param>
    /// <param name="coefficient">Bound c on ‖W‖, in (0, 1). Default 0.9.</param>
    /// <param name="activationKind">1-Lipschitz φ. Default tanh.</param>
    /// <param name="dtype">Parameter type.</param>
    /// <param name="generator">Random source of the initial weights (null: the global one).</param>
    /// <param name="powerIterations">
    /// Power iterations of W's normalisation per training step. Default 5: with 1 the singular vectors lag behind a
    /// fast-moving W and f stops being a contraction (measured: a binary classifier at learning rate 5e-3 whose
    /// forward solve stalled at relative residual 0.04).
    /// </param>
    public EquilibriumCell(int stateFeatures, int inputFeatures, double coefficient = 0.9,
        LipschitzActivation activationKind = LipschitzActivation.Tanh, ScalarType dtype = ScalarType.Float32, int powerIterations = 5,
        Generator? generator = null) : base(nameof(EquilibriumCell))
    {
        if (!(coefficient > 0 && coefficient < 1))
            throw new ArgumentOutOfRangeException(nameof(coefficient), coefficient, "A contraction needs a coefficient in (0, 1).");
        StateFeatures = stateFeatures;
        InputFeatures = inputFeatures;
        Activation = activationKind;
        recurrent = new SpectralNormLinear(stateFeatures, stateFeatures, coefficient, powerIterations, hasBias: false, dtype: dtype, generator: generator);
        injection = nn.Linear(inputFeatures, stateFeatures, dtype: dtype);
        Initialization.Linear(injection, generator);
        activation = LipschitzActivations.Create(activationKind, dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public int StateFeatures { get; }

    /// <inheritdoc />
    public int InputFeatures { get; }

    /// <summary>The activation φ.</summary>
    public LipschitzActivation Activation { get; }

    /// <summary>The spectrally normalised W.</summary>
    public SpectralNormLinear Recurrent => recurrent;

    /// <summary>The injection x ↦ U x + b.</summary>
    public Linear Injection => injection;

    /// <summary>The activation φ as a functional layer (its β, if it has one, among its effective parameters).</summary>
    internal IElementwiseActivation ActivationFunction => (IElementwiseActivation)activation;

    /// <summary>Lipschitz bound of f in z: ‖W‖ (φ is 1-Lipschitz).</summary>
    public double ContractionBound() => recurrent.LipschitzBound();

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters()
    {
        yield return recurrent.EffectiveWeight();
        yield return injection.weight!;
        yield return injection.bias!;
        foreach (var p in ActivationFunction.EffectiveParameters())
            yield return p;
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor state, Tensor input, ReadOnlySpan<Tensor> parameters)
        => ActivationFunction.Apply(addmm(parameters[2], input, parameters[1].t(), 1, 1).AddInPlace(state.mm(parameters[0].t())), parameters[3..]);

    /// <inheritdoc />
    public override Tensor forward(Tensor state, Tensor input) => Apply(state, input, EffectiveParameters().ToArray());

    /// <summary>
    /// The injection c = U x + b computed once per solve, and LipSwish's β folded in: with W′ = βW and c′ = βc,
    /// f(z) = silu(W′z + c′) / (1.1 β) costs one addmm, one in-place silu and one scaling per iteration.
    /// </summary>
    public Func<Tensor, Tensor> IterationMap(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var weight = parameters[0];
        var injected = addmm(parameters[2], input, parameters[1].t(), 1, 1);
        var activation = ActivationFunction;
        if (activation.Beta(parameters[3..]) is { } betaTensor && activation.Math.Kind == LipschitzActivation.LipSwish)
        {
            var beta = betaTensor.ReadDouble();
            var (scaledWeight, scaledInjection, outputScale) = (weight.Mul(beta).t(), injected.Mul(beta), 1 / (LipSwish.Scale * beta));
            return state => nn.functional.silu(addmm(scaledInjection, state, scaledWeight, 1, 1), inplace: true).MulInPlace(outputScale);
        }
        var own = parameters[3..].ToArray();
        var transposed = weight.t();
        return state => activation.Apply(addmm(injected, state, transposed, 1, 1), own);
    }
}
