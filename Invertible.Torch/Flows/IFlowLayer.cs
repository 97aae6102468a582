using Invertible.Torch.Implicit;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>
/// A bijection on [batch, features] rows that reports its log-Jacobian-determinant: the building block of a
/// normalizing flow.
/// </summary>
/// <remarks>
/// Contract (checked by the tests): <c>Forward(x)</c> returns (y, log|det ∂y/∂x|) per row; <c>Inverse(y)</c> returns x
/// with <c>Inverse(Forward(x).Output) ≈ x</c>. The inverse direction's log-determinant is the negative of the forward
/// one at the matching point, so a flow's density is log p(x) = log N(F(x); 0, I) + Σ_layers log|det|.
/// </remarks>
public interface IFlowLayer
{
    /// <summary>Number of features per row.</summary>
    int Features { get; }

    /// <summary>y = F(x) and log|det ∂y/∂x| per row ([batch]).</summary>
    (Tensor Output, Tensor LogDet) Forward(Tensor input);

    /// <summary>x = F⁻¹(y).</summary>
    Tensor Inverse(Tensor output, ImplicitOptions? options = null);
}
