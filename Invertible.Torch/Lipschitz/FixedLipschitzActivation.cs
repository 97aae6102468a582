using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>A parameter-free 1-Lipschitz activation (ELU with α = 1 or tanh) as a functional layer.</summary>
internal sealed class FixedLipschitzActivation : nn.Module<Tensor, Tensor>, IElementwiseActivation
{
    /// <summary>Creates the activation; <see cref="LipschitzActivation.LipSwish"/> is learnable and has its own class.</summary>
    public FixedLipschitzActivation(LipschitzActivation kind) : base(kind.ToString())
    {
        if (kind is not (LipschitzActivation.Elu or LipschitzActivation.Tanh))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Only Elu and Tanh are parameter-free; use LipSwish for LipSwish.");
        Math = LipschitzActivationMath.Of(kind);
        RegisterComponents();
    }

    /// <summary>Which activation this is.</summary>
    public LipschitzActivation Kind => Math.Kind;

    /// <inheritdoc />
    public LipschitzActivationMath Math { get; }

    /// <inheritdoc />
    public int ParameterCount => 0;

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters() => [];

    /// <inheritdoc />
    public Tensor? Beta(ReadOnlySpan<Tensor> parameters) => null;

    /// <inheritdoc />
    public Tensor[] BetaBackward(ReadOnlySpan<Tensor> parameters, Tensor betaGradient) => [];

    /// <inheritdoc />
    public Tensor Apply(Tensor input, ReadOnlySpan<Tensor> parameters) => forward(input);

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Math.Value(new TensorAlgebra(input), input);
}
