using Invertible.Torch.Equilibrium;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Tests.Support;

/// <summary>Residual blocks for tests, in evaluation mode (frozen, converged normalisation).</summary>
internal static class Blocks
{
    public static ResidualBlock Random(int features, int hidden, double coefficient, ScalarType dtype, int depth = 2,
        LipschitzActivation activation = LipschitzActivation.LipSwish)
    {
        var block = new ResidualBlock(features, new ResidualBlockOptions
        {
            HiddenFeatures = hidden, Depth = depth, Coefficient = coefficient, Activation = activation, DType = dtype,
        });
        block.eval();
        return block;
    }

    /// <summary>
    /// A hard equilibrium cell in evaluation mode (<see cref="MakeHard"/>); a LipSwish cell gets ρ = 2 (β = softplus 2 ≈ 2.13).
    /// </summary>
    public static EquilibriumCell HardCell(int state, int input, LipschitzActivation activation, ScalarType dtype)
    {
        var cell = new EquilibriumCell(state, input, 0.9, activation, dtype);
        if (activation == LipschitzActivation.LipSwish)
        {
            using var _ = no_grad();
            ((LipSwish)cell.ActivationFunction).Rho.fill_(2.0);
        }
        MakeHard(cell);
        return cell;
    }

    /// <summary>
    /// Makes <paramref name="cell"/> hard and puts it in evaluation mode: the effective W = c A Aᵀ / ‖A Aᵀ‖ is symmetric
    /// positive semi-definite with top eigenvalue c, so near the origin J_f ≈ W (times the activation's slope) contracts at
    /// nearly the bound. The raw weight has norm 1.2 &gt; c: the normalisation W · c / σ is active and differentiable
    /// (σ = c exactly is the kink of max(1, σ / c)).
    /// </summary>
    public static void MakeHard(EquilibriumCell cell)
    {
        using (no_grad())
        {
            var a = randn(cell.StateFeatures, cell.StateFeatures, dtype: cell.Recurrent.Weight.dtype);
            var w = a.mm(a.t());
            cell.Recurrent.Weight.copy_(w.div(linalg.matrix_norm(w, 2)).mul(1.2));
        }
        // Entering evaluation mode converges the power iteration on the new weight.
        cell.train();
        cell.eval();
    }

    /// <summary>The aligned hard block shared with the samples and benchmarks.</summary>
    public static ResidualBlock Aligned(int features, double coefficient, ScalarType dtype) => Invertible.Samples.Shared.AlignedBlock.Create(features, coefficient, dtype);
}
