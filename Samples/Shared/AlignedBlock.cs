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
        // Float32 cannot resolve a relative 1e-12 (the iteration would run to its 100 000-iteration cap, 5 s at d = 8);
        // 1e-6 converges in milliseconds with σ within 3e-7 of c.
        var tolerance = dtype == ScalarType.Float64 ? 1e-12 : 1e-6;
        foreach (var linear in linears)
            linear.RefreshSingularVectors(new SpectralNormOptions { RelativeTolerance = tolerance, AbsoluteTolerance = 0, MaxIterations = 100_000 });
        block.eval();
        return block;
    }
}
