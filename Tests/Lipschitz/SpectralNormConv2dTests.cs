using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Tests.Lipschitz;

/// <summary>
/// The spectrally normalised convolution bounds the norm of the convolution as an operator on its image shape: checked
/// against the exact SVD of the dense matrix assembled column by column, on kernels large enough that the bound is active.
/// </summary>
[TestClass]
public sealed class SpectralNormConv2dTests
{
    private static readonly ImageShape Small = new(2, 5, 4);
    // Too large for the layer's own dense SVD (rows · columns · min > 2²⁸), so evaluation mode converges by the power iteration.
    private static readonly ImageShape Medium = new(8, 12, 12);

    /// <summary>The dense matrix of the layer's map on flat rows (bias excluded): column j is the image of the j-th unit vector.</summary>
    private static Tensor Dense(SpectralNormConv2d conv, Tensor kernel)
    {
        using var _ = no_grad();
        var basis = eye(conv.Input.Size, dtype: kernel.dtype);
        return conv.Apply(basis, [kernel]).t();
    }

    private static SpectralNormConv2d Conv(int outChannels, double coefficient, int seed, int powerIterations = 1, double scale = 3, ImageShape? input = null)
    {
        var conv = new SpectralNormConv2d(input ?? Small, outChannels, 3, coefficient, powerIterations, dtype: ScalarType.Float64, generator: new Generator((ulong)seed));
        // A new kernel with σ(K) well above c (the normalisation is active) whose singular vectors are not the stored ones.
        using (no_grad())
            conv.Weight.copy_(randn(conv.Weight.shape, dtype: ScalarType.Float64, generator: new Generator((ulong)seed + 100)).mul(scale / 3));
        return conv;
    }

    /// <summary>Small operators converge by their own dense SVD, the medium one by the power iteration.</summary>
    [TestMethod]
    [DataRow(3, 0.9, 1, false)]
    [DataRow(2, 0.5, 2, false)]
    [DataRow(5, 0.97, 3, false)]
    [DataRow(8, 0.9, 4, true)]
    public void EvaluationMode_OperatorNorm_IsTheCoefficient_ByExactSvd(int outChannels, double coefficient, int seed, bool medium)
    {
        var conv = Conv(outChannels, coefficient, seed, input: medium ? Medium : Small);
        var rawNorm = linalg.svdvals(Dense(conv, conv.Weight.detach())).max().ToDouble();
        Check.Less(1.5 * coefficient, rawNorm, "σ(K) before normalisation, so that the bound is active");
        // The reshaped kernel matrix [out, in·k²] has a different norm: normalising it instead would miss the bound.
        var reshapedNorm = linalg.svdvals(conv.Weight.detach().flatten(1)).max().ToDouble();
        Check.Less(0.05, Math.Abs(reshapedNorm - rawNorm) / rawNorm, $"σ of the reshaped kernel ({reshapedNorm:F4}) vs the operator's ({rawNorm:F4})");

        conv.eval();
        var effective = conv.EffectiveParameters().First();
        var exact = linalg.svdvals(Dense(conv, effective)).max().ToDouble();
        // A power iteration stops on its residual; where the top singular values cluster, as a convolution's on a larger
        // image do, a vector mixing the top two meets the rule with σ̂ up to their gap (here a few 1e-6) below σ.
        var tolerance = medium ? 1e-5 : 1e-6;
        Check.Close(exact, coefficient, tolerance, "operator norm of the effective convolution (exact SVD)");
        Check.Close(conv.LipschitzBound(), exact, tolerance, "LipschitzBound vs the exact SVD");
    }

    [TestMethod]
    public void Apply_IsTheDenseOperator_OnChannelMajorRows()
    {
        var conv = Conv(3, 0.9, 4);
        conv.eval();
        var parameters = conv.EffectiveParameters().ToArray();
        var x = randn(7, Small.Size, dtype: ScalarType.Float64);
        using var _ = no_grad();
        var expected = x.mm(Dense(conv, parameters[0]).t()).add(parameters[1].repeat_interleave(Small.Height * Small.Width));
        Check.TensorsClose(conv.forward(x), expected, 1e-12, "conv on rows vs the dense matrix plus the per-channel bias");
        // The same convolution on the images themselves, channel-major.
        var images = nn.functional.conv2d(x.view(7, 2, 5, 4), parameters[0], parameters[1], padding: [1, 1]);
        Check.TensorsClose(conv.forward(x), images.flatten(1), 1e-12, "rows vs images");
    }

    [TestMethod]
    public void TrainingForwards_AdvanceThePowerIteration_ToTheOperatorNorm()
    {
        var conv = Conv(3, 0.9, 5);
        conv.train();
        var rawNorm = linalg.svdvals(Dense(conv, conv.Weight.detach())).max().ToDouble();
        var x = randn(2, Small.Size, dtype: ScalarType.Float64);
        for (var i = 0; i < 200; i++)
            conv.forward(x);
        var effective = conv.EffectiveParameters().First();
        var exact = linalg.svdvals(Dense(conv, effective.detach())).max().ToDouble();
        Check.Close(exact, 0.9, 1e-6, $"after training forwards the estimate has reached σ(K) = {rawNorm:F4}");
    }

    [TestMethod]
    public void EffectiveKernelGradient_MatchesFiniteDifferences_Float64()
    {
        var conv = Conv(2, 0.8, 6);
        conv.eval();
        var x = randn(3, Small.Size, dtype: ScalarType.Float64);
        var w = randn(3, conv.Output.Size, dtype: ScalarType.Float64);
        double Loss() => conv.forward(x).mul(w).sum().ToDouble();
        conv.Weight.grad?.zero_();
        conv.forward(x).mul(w).sum().backward();
        var analytic = conv.Weight.grad!.clone();
        var flat = conv.Weight.detach().view(-1);
        foreach (var index in new long[] { 0, 7, 20, 35 })
        {
            const double h = 1e-6;
            double Shifted(double delta)
            {
                using (no_grad())
                    flat[index] = flat[index].add(delta);
                var value = Loss();
                using (no_grad())
                    flat[index] = flat[index].sub(delta);
                return value;
            }
            var numeric = (Shifted(h) - Shifted(-h)) / (2 * h);
            Check.Close(analytic.view(-1)[index].ToDouble(), numeric, 1e-6 * Math.Max(1, Math.Abs(numeric)), $"∂L/∂K[{index}] (σ's gradient included)");
        }
    }

    /// <summary>A branch starts as the identity with its last kernel zeroed: in float32 training mode Kᵀu = 0 must not
    /// turn the singular vectors into 0 / 0.</summary>
    [TestMethod]
    public void ZeroKernel_Float32_Training_StaysFinite_AndRecovers()
    {
        var conv = new SpectralNormConv2d(Small, 3, 3, 0.9, generator: new Generator(8));
        conv.train();
        using (no_grad())
            conv.Weight.zero_();
        var x = randn(4, Small.Size);
        Assert.IsTrue(isfinite(conv.forward(x)).all().item<bool>(), "output with a zero kernel");
        using (no_grad())
            conv.Weight.copy_(randn(conv.Weight.shape, generator: new Generator(9)));
        for (var i = 0; i < 100; i++)
            conv.forward(x);
        conv.eval();
        Check.Close(conv.LipschitzBound(), 0.9, 1e-4, "the bound after the kernel moved away from zero");
    }

    [TestMethod]
    public void RowsOfTheWrongSize_AreRejected_NamingTheShape()
    {
        var conv = new SpectralNormConv2d(Small, 3, 3, 0.9);
        var thrown = Assert.ThrowsExactly<ArgumentException>(() => conv.forward(randn(4, 39)));
        Assert.AreEqual("input", thrown.ParamName);
        StringAssert.Contains(thrown.Message, "2×5×4 = 40");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SpectralNormConv2d(Small, 3, 2, 0.9));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageShape(0, 5, 5));
    }
}
