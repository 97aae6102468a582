using static TorchSharp.torch;

namespace Invertible.Torch;

/// <summary>A functional layer from features to features with an analytic per-row Jacobian.</summary>
public interface IJacobianLayer : IFunctionalLayer
{
    /// <summary>
    /// Apply(x) and ∂ Apply(x) / ∂x per row ([batch, features, features]) from one pass, both differentiable in x and
    /// the parameters.
    /// </summary>
    (Tensor Output, Tensor Jacobian) OutputAndJacobian(Tensor input, ReadOnlySpan<Tensor> parameters);
}
