using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Samples.Shared;

/// <summary>
/// A hard residual block for solver comparisons: g(x) = W₁ᵀ tanh(W₁ x) with σ(W₁) = c, so the top singular directions
/// of both layers align and J_g ≈ W₁ᵀ W₁ has spectral radius c² near 0 (random weights contract far more than their
/// bound).
/// </summary>
public static class AlignedBlock
{
    /// <summary>Creates the block in evaluation mode with converged normalisation.</summary>
    public static ResidualBlock Create(int features, double coefficient, ScalarType dtype = ScalarType.Float32)
    {
        var block = new ResidualBlock(new ContractiveMlp(features, features, 2, coefficient, LipschitzActivation.Tanh, dtype: dtype));
        var linears = block.Residual.LinearLayers.ToArray();
        using (no_grad())
        {
            var a = randn(features, features, dtype: dtype);
            var w = a.div(linalg.svdvals(a).max()).mul(coefficient);
            linears[0].Weight.copy_(w);
            linears[1].Weight.copy_(w.t());
            linears[0].Bias!.zero_();
            linears[1].Bias!.zero_();
        }
        foreach (var linear in linears)
            linear.RefreshSingularVectors(new SpectralNormOptions { RelativeTolerance = 1e-12, AbsoluteTolerance = 0, MaxIterations = 100_000 });
        block.eval();
        return block;
    }
}
