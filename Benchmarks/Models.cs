using Invertible.Samples.Shared;
using Invertible.Torch.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>The kind of residual block a solver benchmark inverts.</summary>
public enum BlockKind
{
    /// <summary>Random initial weights: they contract far more than their bound.</summary>
    Random,
    /// <summary>W₂ = W₁ᵀ with σ(W₁) = c: aligned singular directions, contraction close to c².</summary>
    Hard,
}

/// <summary>Models shared by the benchmarks (float32, evaluation mode).</summary>
internal static class Models
{
    public static ResidualBlock Block(BlockKind kind, int features, int hidden, double coefficient)
    {
        manual_seed(7);
        if (kind == BlockKind.Random)
        {
            var random = new ResidualBlock(features, new ResidualBlockOptions { HiddenFeatures = hidden, Coefficient = coefficient });
            random.eval();
            return random;
        }
        return AlignedBlock.Create(features, coefficient);
    }
}
