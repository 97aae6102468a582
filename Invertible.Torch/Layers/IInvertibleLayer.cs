using Invertible.Torch.Implicit;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// A bijection y = F(x) on the rows of a [batch, features] tensor that reports its log-Jacobian-determinant and has a
/// differentiable inverse: the building block of normalizing flows.
/// </summary>
/// <remarks>
/// <para>Contract (checked by the tests for every implementation): <see cref="ForwardWithLogDet"/> returns
/// (y, log|det ∂y/∂x|) per row; <c>Inverse(ForwardWithLogDet(x).Output) ≈ x</c> and
/// <c>ForwardWithLogDet(Inverse(y)).Output ≈ y</c> to the solver tolerance; the inverse direction's log-determinant is
/// the negative of the forward one at the matching point, so a composition's density is
/// log p(x) = log N(F(x); 0, I) + Σ_layers log|det|. The inverse is differentiable in its input and in every trainable
/// parameter.</para>
/// </remarks>
public interface IInvertibleLayer
{
    /// <summary>Number of features per row.</summary>
    int Features { get; }

    /// <summary>y = F(x) and log|det ∂y/∂x| per row ([batch]).</summary>
    (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input);

    /// <summary>x = F⁻¹(y).</summary>
    /// <exception cref="Solvers.SolverNotConvergedException">An iterative inverse missed its tolerance (unless disabled in the options).</exception>
    Tensor Inverse(Tensor output, ImplicitOptions? options = null) => InverseWithStatistics(output, options).Input;

    /// <summary>x = F⁻¹(y) with the statistics of every solve, in the order they ran.</summary>
    /// <exception cref="Solvers.SolverNotConvergedException">An iterative inverse missed its tolerance (unless disabled in the options).</exception>
    InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null);
}
