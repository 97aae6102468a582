using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.LogDet;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Benchmarks.SideBySide;

/// <summary>Our models built like the peer's (<c>make_g</c> and its flow): same shapes, same weight scaling, float32.</summary>
internal static class PeerModels
{
    /// <summary>The peer's weight modes, named as it prints them.</summary>
    public static readonly string[] BlockModes = ["cap0.9", "sn0.97", "sn0.97-aligned"];

    /// <summary>
    /// y = x + g(x), g = Linear(64, 256) → LipSwish → Linear(256, 64), evaluation mode. "cap0.9": W / max(1, σ/0.9)
    /// (our spectral normalisation at c = 0.9); "sn0.97": every W scaled to σ = 0.97; "sn0.97-aligned": W₁ = 0.97·Q
    /// (orthonormal columns), W₂ = W₁ᵀ, so the contraction approaches 0.97².
    /// </summary>
    public static ResidualBlock Block(string mode, int features = 64, int hidden = 256)
    {
        manual_seed(0);
        var coefficient = mode == "cap0.9" ? 0.9 : 0.97;
        var block = new ResidualBlock(features, new ResidualBlockOptions { HiddenFeatures = hidden, Depth = 2, Coefficient = coefficient });
        var linears = block.Residual.LinearLayers.ToArray();
        using (no_grad())
        {
            if (mode == "sn0.97-aligned")
            {
                var (q, _) = linalg.qr(randn(hidden, features));
                linears[0].Weight.copy_(q.mul(0.97));
                linears[1].Weight.copy_(q.t().mul(0.97));
            }
            else if (mode == "sn0.97")
            {
                foreach (var linear in linears)
                    linear.Weight.mul_(0.97 / linalg.matrix_norm(linear.Weight, 2).ToDouble());
            }
            else if (mode != "cap0.9")
            {
                throw new ArgumentException($"Unknown peer block mode '{mode}'.", nameof(mode));
            }
        }
        foreach (var linear in linears)
            linear.RefreshSingularVectors(new SpectralNormOptions { RelativeTolerance = 1e-7, AbsoluteTolerance = 0, MaxIterations = 100_000 });
        block.eval();
        return block;
    }

    /// <summary>The peer's flow, section d/f: 4 blocks on d = 2, hidden 64, LipSwish, c = 0.9, no ActNorm, a 5-term power
    /// series with one Gaussian probe differentiated through (not the Neumann gradient), one power iteration per step.</summary>
    public static InvertibleResNetFlow PeerFlow() => new(2, new InvertibleResNetFlowOptions
    {
        Blocks = 4,
        HiddenFeatures = 64,
        Depth = 2,
        Coefficient = 0.9,
        PowerIterations = 1,
        ActNorm = false,
        TrainingLogDet = new LogDetOptions { Method = LogDetMethod.PowerSeries, Terms = 5, Probes = 1, Probe = TraceProbe.Gaussian, NeumannGradient = false },
    });

    /// <summary>The toy-density flow at the peer's size (4 blocks, hidden 64): depth 3, c = 0.97, ActNorm, exact log-det at
    /// d = 2, five power iterations per step.</summary>
    public static InvertibleResNetFlow ToyFlow() => new(2, new InvertibleResNetFlowOptions { Blocks = 4, HiddenFeatures = 64, Depth = 3, Coefficient = 0.97 });

    /// <summary>The peer's data: a pool of 16 batches from the ring of eight Gaussians (radius 2, σ = 0.2).</summary>
    public static Tensor EightGaussiansPool(int batch)
    {
        manual_seed(0);
        var angles = arange(8, dtype: ScalarType.Float32).mul(2 * Math.PI / 8);
        var centers = stack([cos(angles), sin(angles)], 1).mul(2.0);
        return centers.index(randint(0, 8, [batch * 16])).add(randn(batch * 16, 2).mul(0.2));
    }
}
