using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>A 1-Lipschitz elementwise activation as a functional layer; its math is <see cref="Math"/>.</summary>
internal interface IElementwiseActivation : IFunctionalLayer
{
    /// <summary>Value, derivative and folded form of the activation.</summary>
    LipschitzActivationMath Math { get; }

    /// <summary>β taken from the activation's effective parameters, or null for a parameter-free activation.</summary>
    Tensor? Beta(ReadOnlySpan<Tensor> parameters);

    /// <summary>∂L/∂θ for the activation's own parameters θ, given ∂L/∂β (empty for a parameter-free activation).</summary>
    Tensor[] BetaBackward(ReadOnlySpan<Tensor> parameters, Tensor betaGradient);

    /// <summary>φ'(z) elementwise, differentiable in z and in the parameters.</summary>
    Tensor Derivative(Tensor input, ReadOnlySpan<Tensor> parameters) => Math.Derivative(new TensorAlgebra(input), input, Beta(parameters));
}
