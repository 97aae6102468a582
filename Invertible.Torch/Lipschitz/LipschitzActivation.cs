using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>1-Lipschitz activation functions for contractive residual branches (math: <see cref="LipschitzActivationMath"/>).</summary>
public enum LipschitzActivation
{
    /// <summary>x · sigmoid(β x) / 1.1 with learnable β (<see cref="Lipschitz.LipSwish"/>).</summary>
    LipSwish,
    /// <summary>ELU with α = 1.</summary>
    Elu,
    /// <summary>Hyperbolic tangent.</summary>
    Tanh,
}

/// <summary>Creates activation modules.</summary>
internal static class LipschitzActivations
{
    /// <summary>A new module for <paramref name="kind"/> (LipSwish gets its own learnable β).</summary>
    public static nn.Module<Tensor, Tensor> Create(LipschitzActivation kind, ScalarType dtype = ScalarType.Float32) => kind switch
    {
        LipschitzActivation.LipSwish => new LipSwish(dtype: dtype),
        LipschitzActivation.Elu or LipschitzActivation.Tanh => new FixedLipschitzActivation(kind),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown activation."),
    };
}
