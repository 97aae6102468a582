using Invertible.Tests.Support;
using Invertible.Torch.Core;
using static TorchSharp.torch;

namespace Invertible.Tests.Layers;

/// <summary>
/// libtorch's float32 convolution kernels on this machine, where the branches' power iterations and every backward
/// through a convolution run them: the transposed convolution (the input gradient) against float64.
/// </summary>
[TestClass]
public sealed class ConvolutionKernelTests
{
    [TestMethod]
    public void OneDnn_IsCapped_UnlessTheProcessChoseOtherwise()
    {
        // Loading the assembly applied the cap; a variable set before the process started is kept.
        Assert.IsFalse(string.IsNullOrEmpty(ConvolutionBackends.Value), $"{ConvolutionBackends.Variable} is not set");
    }

    /// <summary>Small channel counts, where oneDNN's AVX-512 kernels went wrong on an AMD EPYC (errors of 14–50), repeated
    /// because the wrong values came and went from run to run.</summary>
    [TestMethod]
    public void TransposedConvolution_Float32_MatchesFloat64()
    {
        _ = ConvolutionBackends.Value;
        manual_seed(41);
        foreach (var (batch, input, output, side) in new[] { (4, 2, 8, 6), (2, 4, 8, 4), (33, 16, 16, 14) })
        {
            for (var repeat = 0; repeat < 5; repeat++)
            {
                var x = randn(batch, output, side, side);
                var kernel = randn(output, input, 3, 3);
                var single = nn.functional.conv_transpose2d(x, kernel, padding: [1, 1]);
                var reference = nn.functional.conv_transpose2d(x.to_type(ScalarType.Float64), kernel.to_type(ScalarType.Float64), padding: [1, 1]);
                Check.AtMost(Check.MaxAbsDiff(single.to_type(ScalarType.Float64), reference), 2e-3, $"conv_transpose2d {input}←{output} channels, {side}×{side}, float32 vs float64");
            }
        }
    }
}
