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

    /// <summary>The aligned hard block shared with the samples and benchmarks.</summary>
    public static ResidualBlock Aligned(int features, double coefficient, ScalarType dtype) => Invertible.Samples.Shared.AlignedBlock.Create(features, coefficient, dtype);
}
