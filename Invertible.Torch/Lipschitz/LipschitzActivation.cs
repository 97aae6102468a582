using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>1-Lipschitz activation functions for contractive residual branches.</summary>
public enum LipschitzActivation
{
    /// <summary>x · sigmoid(β x) / 1.1 with learnable β (<see cref="Lipschitz.LipSwish"/>).</summary>
    LipSwish,
    /// <summary>ELU with α = 1.</summary>
    Elu,
    /// <summary>Hyperbolic tangent.</summary>
    Tanh,
}

/// <summary>A parameter-free 1-Lipschitz activation (ELU with α = 1 or tanh) as a functional layer.</summary>
public sealed class FixedLipschitzActivation : nn.Module<Tensor, Tensor>, IElementwiseActivation
{
    /// <summary>Creates the activation; <see cref="LipschitzActivation.LipSwish"/> is learnable and has its own class.</summary>
    public FixedLipschitzActivation(LipschitzActivation kind) : base(kind.ToString())
    {
        if (kind is not (LipschitzActivation.Elu or LipschitzActivation.Tanh))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Only Elu and Tanh are parameter-free; use LipSwish for LipSwish.");
        Kind = kind;
        RegisterComponents();
    }

    /// <summary>Which activation this is.</summary>
    public LipschitzActivation Kind { get; }

    /// <inheritdoc />
    public int ParameterCount => 0;

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters() => [];

    /// <inheritdoc />
    public Tensor Apply(Tensor input, ReadOnlySpan<Tensor> parameters) => forward(input);

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Kind == LipschitzActivation.Elu ? nn.functional.elu(input, 1.0) : tanh(input);

    /// <inheritdoc />
    public Tensor Derivative(Tensor input, ReadOnlySpan<Tensor> parameters) => Kind == LipschitzActivation.Elu
        ? where(input.gt(0), ones_like(input), input.exp())
        : tanh(input).square().neg().add(1);
}

/// <summary>Creates activation modules.</summary>
public static class LipschitzActivations
{
    /// <summary>A new module for <paramref name="kind"/> (LipSwish gets its own learnable β).</summary>
    public static nn.Module<Tensor, Tensor> Create(LipschitzActivation kind, ScalarType dtype = ScalarType.Float32) => kind switch
    {
        LipschitzActivation.LipSwish => new LipSwish(dtype: dtype),
        LipschitzActivation.Elu or LipschitzActivation.Tanh => new FixedLipschitzActivation(kind),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown activation."),
    };
}
