using static TorchSharp.torch;

namespace Invertible.Torch;

/// <summary>A functional layer from features to features with an analytic per-row Jacobian.</summary>
public interface IJacobianLayer : IFunctionalLayer
{
    /// <summary>∂ Apply(x) / ∂x per row: [batch, features, features], differentiable in x and the parameters.</summary>
    Tensor Jacobian(Tensor input, ReadOnlySpan<Tensor> parameters);
}
