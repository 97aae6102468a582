using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using static TorchSharp.torch;

namespace Invertible.Tests.Layers;

/// <summary>The learned prior of factored-out channels: y_b = (b − μ(a)) ⊙ exp(−s(a)) with a 3×3 convolution of the kept channels.</summary>
[TestClass]
public sealed class ConditionalFactorOutTests
{
    // Three channels: two kept, one factored out (the odd split), on a 4×4 image.
    private static readonly ImageShape Image = new(3, 4, 4);

    private static ConditionalFactorOut Trained(ScalarType dtype, ulong seed)
    {
        var layer = new ConditionalFactorOut(Image, dtype);
        using (no_grad())
        {
            layer.Kernel.copy_(randn(layer.Kernel.shape, dtype: dtype, generator: new Generator(seed)).mul(0.5));
            layer.Bias.copy_(randn(layer.Bias.shape, dtype: dtype, generator: new Generator(seed + 1)));
        }
        return layer;
    }

    [TestMethod]
    public void Forward_IsTheConditionalStandardisation_WithTheJacobiansLogDet_AndInverts()
    {
        var layer = Trained(ScalarType.Float64, 3);
        var x = randn(5, Image.Size, dtype: ScalarType.Float64, generator: new Generator(4));
        var (y, logDet) = layer.forward(x);

        // Reference by hand: the convolution of the kept channels gives μ (first output channel) and s̃ (second).
        var kept = x[.., ..32].view(5, 2, 4, 4);
        var both = nn.functional.conv2d(kept, layer.Kernel, layer.Bias, padding: [1, 1]).flatten(1);
        var (mean, raw) = (both[.., ..16], both[.., 16..]);
        var logScale = raw.div(2.0).tanh().mul(2.0);
        Check.TensorsClose(y[.., ..32], x[.., ..32], 0, "the kept channels pass unchanged");
        Check.TensorsClose(y[.., 32..], x[.., 32..].sub(mean).mul(logScale.neg().exp()), 1e-12, "the factored-out channel, standardised");
        Assert.IsTrue(logScale.abs().max().ReadDouble() > 0.5, "the weights make the scales matter");

        for (var row = 0; row < 5; row += 2)
        {
            var jacobian = Autograd.Jacobian(r => layer.forward(r.unsqueeze(0)).Output.squeeze(0), x[row]);
            Check.Close(logDet[row].ReadDouble(), linalg.slogdet(jacobian).Item2.ReadDouble(), 1e-10, $"row {row}: log|det| = log|det J|");
        }
        Check.TensorsClose(((IInvertibleLayer)layer).Inverse(y), x, 1e-12, "inverse");
    }

    [TestMethod]
    public void StartsAsTheIdentity()
    {
        var layer = new ConditionalFactorOut(Image);
        var x = randn(3, Image.Size);
        var (y, logDet) = layer.forward(x);
        Check.TensorsClose(y, x, 0, "identity");
        Check.TensorsClose(logDet, zeros(3), 0, "log|det| 0");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(33)]
    public void Onnx_ForwardAndInverse_MatchTorchSharp(int batch)
    {
        // The log-likelihood sums 48 float32 terms of size ~10: a few ulps of the sum.
        OnnxRunner.CheckFlowParity(new ResidualStack([Trained(ScalarType.Float32, 7)]), randn(batch, Image.Size, generator: new Generator((ulong)batch)), 5e-4, $"batch {batch}");
    }

    [TestMethod]
    public void OneChannel_IsRejected_Naming()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => new ConditionalFactorOut(new ImageShape(1, 4, 4)));
        Assert.AreEqual("image", e.ParamName);
        StringAssert.Contains(e.Message, "1×4×4");
    }
}
