using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using static TorchSharp.torch;

namespace Invertible.Tests.Layers;

[TestClass]
public sealed class SpaceToDepthTests
{
    private static readonly ImageShape Image = new(2, 4, 6);

    [TestMethod]
    public void MovesEach2x2BlockIntoFourChannels_AndInvertsExactly()
    {
        var layer = new SpaceToDepth(Image);
        var x = randn(3, Image.Size);
        var (y, logDet) = layer.forward(x);
        // The definition, pixel by pixel: channel 4c + 2i + j at (r, s) holds channel c at (2r + i, 2s + j).
        var images = x.view(3, 2, 4, 6);
        var expected = zeros(3, 8, 2, 3);
        for (var c = 0; c < 2; c++)
            for (var i = 0; i < 2; i++)
                for (var j = 0; j < 2; j++)
                    for (var r = 0; r < 2; r++)
                        for (var s = 0; s < 3; s++)
                            expected[.., 4 * c + 2 * i + j, r, s] = images[.., c, 2 * r + i, 2 * s + j];
        Check.Identical(y, expected.flatten(1), "y vs the definition");
        Check.Identical(y, nn.functional.pixel_unshuffle(images, 2).flatten(1), "y vs torch's pixel_unshuffle");
        Assert.IsTrue(logDet.eq(0).all().item<bool>(), "a permutation has log|det| = 0");
        Check.Identical(((IInvertibleLayer)layer).Inverse(y), x, "F⁻¹(F(x)) = x exactly");
        Assert.AreEqual(new ImageShape(8, 2, 3), layer.Output);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(33)]
    public void Onnx_BeforeAConvolutionalBlock_MatchesTorchSharp(int batch)
    {
        var squeeze = new SpaceToDepth(new ImageShape(2, 4, 4));
        var block = new ResidualBlock(ContractiveMlp.Convolutional(squeeze.Output, 8, 2, 0.9, generator: new Generator(3)));
        var stack = new ResidualStack([squeeze, block]);
        stack.eval();
        var x = randn(batch, 32, generator: new Generator((ulong)batch));
        Tensor y, inverse;
        using (no_grad())
        {
            y = stack.forward(x);
            inverse = stack.Inverse(y);
        }
        Check.TensorsClose(OnnxRunner.Run(ResidualStackExporter.ExportForward(stack), ("x", x))["y"], y, 1e-5, $"batch {batch}: forward");
        var outputs = OnnxRunner.Run(ResidualStackExporter.ExportInverse(stack), ("y", y));
        Check.TensorsClose(outputs["x"], inverse, 1e-5, $"batch {batch}: inverse vs TorchSharp");
        Check.TensorsClose(outputs["x"], x, 1e-4, $"batch {batch}: inverse vs the original");
    }

    [TestMethod]
    public void OddSides_AndWrongRows_AreNamed()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new SpaceToDepth(new ImageShape(1, 5, 4))).Message, "even height and width, got 1×5×4");
        var layer = new SpaceToDepth(Image);
        Assert.AreEqual("input", Assert.ThrowsExactly<ArgumentException>(() => layer.forward(randn(2, 47))).ParamName);
        Assert.AreEqual("output", Assert.ThrowsExactly<ArgumentException>(() => ((IInvertibleLayer)layer).Inverse(randn(2, 47))).ParamName);
    }
}
