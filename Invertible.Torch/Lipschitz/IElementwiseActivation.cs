using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>An elementwise activation as a functional layer, with its derivative (for analytic Jacobians).</summary>
public interface IElementwiseActivation : IFunctionalLayer
{
    /// <summary>φ'(z) elementwise, differentiable in z and in the parameters.</summary>
    Tensor Derivative(Tensor input, ReadOnlySpan<Tensor> parameters);
}
