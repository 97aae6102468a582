using Invertible.Torch.Implicit;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// A bijection y = F(x) on rows of a [batch, features] tensor with a differentiable inverse.
/// </summary>
/// <remarks>
/// Contract (checked by the tests for every implementation): <c>Inverse(forward(x)) ≈ x</c> and
/// <c>forward(Inverse(y)) ≈ y</c> to the solver tolerance; the inverse is differentiable in its input and in every
/// trainable parameter. <c>forward</c> is the ordinary module call.
/// </remarks>
public interface IInvertibleLayer
{
    /// <summary>Number of features per row.</summary>
    int Features { get; }

    /// <summary>x = F⁻¹(y).</summary>
    /// <exception cref="Solvers.SolverNotConvergedException">An iterative inverse missed its tolerance (unless disabled in the options).</exception>
    Tensor Inverse(Tensor output, ImplicitOptions? options = null);

    /// <summary>x = F⁻¹(y) with the statistics of every solve, in the order they ran.</summary>
    InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null);
}

/// <summary>The result of <see cref="IInvertibleLayer.InverseWithStatistics"/>.</summary>
/// <param name="Input">x = F⁻¹(y).</param>
/// <param name="Solves">One entry per implicit solve (empty for layers with a closed-form inverse).</param>
public sealed record InverseResult(Tensor Input, IReadOnlyList<ImplicitSolveStatistics> Solves);
