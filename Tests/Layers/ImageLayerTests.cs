using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using static TorchSharp.torch;

namespace Invertible.Tests.Layers;

/// <summary>The per-channel ActNorm and the invertible 1×1 convolution on flat channel-major image rows.</summary>
[TestClass]
public sealed class ImageLayerTests
{
    private static readonly ImageShape Image = new(3, 2, 3);

    [TestMethod]
    public void PerChannelActNorm_StandardisesEachChannelOverItsPixels_WithTheJacobiansLogDet()
    {
        var layer = ActNorm.PerChannel(Image, ScalarType.Float64);
        // Channels with different means and spreads, constant within no row.
        var batch = randn(50, 3, 6, dtype: ScalarType.Float64).mul(tensor(new[] { 1.0, 5, 0.2 }).view(1, 3, 1)).add(tensor(new[] { 0.0, -3, 7 }).view(1, 3, 1)).flatten(1);
        layer.train();
        var (y, logDet) = layer.forward(batch);
        var channels = y.view(50, 3, 6);
        Check.TensorsClose(channels.mean([0, 2]), zeros(3, dtype: ScalarType.Float64), 1e-10, "each channel's mean over the batch and pixels");
        Check.TensorsClose(channels.std([0, 2], unbiased: false), ones(3, dtype: ScalarType.Float64), 1e-10, "each channel's deviation over the batch and pixels");
        Assert.AreEqual(3L, layer.LogScale.shape[0], "one scale per channel");
        var jacobian = Autograd.Jacobian(row => layer.forward(row.unsqueeze(0)).Output.squeeze(0), batch[0]);
        Check.Close(logDet[0].ReadDouble(), linalg.slogdet(jacobian).Item2.ReadDouble(), 1e-10, "log|det| = log|det J| (each channel's scale counted once per pixel)");
        Check.TensorsClose(((IInvertibleLayer)layer).Inverse(y), batch, 1e-12, "inverse");
    }

    [TestMethod]
    public void OneByOneConvolution_IsTheConvolutionWithTheMatrixAsKernel_WithTheJacobiansLogDet()
    {
        var layer = InvertibleLinear.PerPixel(Image, ScalarType.Float64, new Generator(5));
        using (no_grad())
            layer.Initialize(randn(3, 3, dtype: ScalarType.Float64, generator: new Generator(6)).add(eye(3, dtype: ScalarType.Float64)));
        var x = randn(4, Image.Size, dtype: ScalarType.Float64);
        var (y, logDet) = layer.forward(x);
        var convolved = nn.functional.conv2d(Image.Images(x), layer.Weight().view(3, 3, 1, 1)).flatten(1);
        Check.TensorsClose(y, convolved, 1e-12, "y = the 1×1 convolution");
        var jacobian = Autograd.Jacobian(row => layer.forward(row.unsqueeze(0)).Output.squeeze(0), x[1]);
        Check.Close(logDet[1].ReadDouble(), linalg.slogdet(jacobian).Item2.ReadDouble(), 1e-10, "log|det| = pixels · log|det W|");
        Check.TensorsClose(((IInvertibleLayer)layer).Inverse(y), x, 1e-12, "inverse by triangular solves per pixel");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(33)]
    public void Onnx_PerChannelActNormAndOneByOneConvolution_MatchTorchSharp(int batch)
    {
        var actNorm = ActNorm.PerChannel(Image);
        actNorm.Initialize(randn(3), randn(3).mul(0.3));
        var mixing = InvertibleLinear.PerPixel(Image, generator: new Generator(8));
        OnnxRunner.CheckFlowParity(new ResidualStack([actNorm, mixing]), randn(batch, Image.Size, generator: new Generator((ulong)batch)), 1e-4, $"batch {batch}");
    }
}
