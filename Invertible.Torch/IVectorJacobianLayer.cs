using static TorchSharp.torch;

namespace Invertible.Torch;

/// <summary>A functional layer from features to features whose transposed Jacobian product has a closed form.</summary>
public interface IVectorJacobianLayer : IFunctionalLayer
{
    /// <summary>
    /// Apply(x) and the map w ↦ wᵀ ∂Apply(x)/∂x per row ([batch, features] to [batch, features]), both built from
    /// ordinary differentiable operations: the map costs one product per linear layer and one multiplication per
    /// activation, and differentiating through it is first-order autograd, where <c>autograd.grad</c> with
    /// <c>create_graph</c> would record the backward of every operation of the layer.
    /// </summary>
    (Tensor Output, Func<Tensor, Tensor> VectorJacobian) OutputAndVectorJacobian(Tensor input, ReadOnlySpan<Tensor> parameters);
}
