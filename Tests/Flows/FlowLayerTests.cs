using Invertible.Tests.Support;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.LogDet;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Tests.Flows;

[TestClass]
public sealed class FlowLayerTests
{
    private static readonly ImplicitOptions Precise = ImplicitOptions.Both(new FixedPointOptions { Tolerance = 1e-13, MaxIterations = 2000 });

    private static IEnumerable<(string Name, IInvertibleLayer Layer)> Layers(int features)
    {
        var actNorm = new ActNorm(features, ScalarType.Float64);
        actNorm.forward(randn(64, features, dtype: ScalarType.Float64).mul(3).add(1));
        actNorm.eval();
        yield return ("ActNorm", actNorm);
        var linear = new InvertibleLinear(features, ScalarType.Float64);
        yield return ("InvertibleLinear", linear);
        var block = new ResidualBlock(features, new ResidualBlockOptions { Coefficient = 0.9, HiddenFeatures = 16, DType = ScalarType.Float64 });
        block.eval();
        yield return ("ResidualBlock", block);
    }

    [TestMethod]
    public void EveryLayer_InvertsAndReportsItsExactLogDet_Float64()
    {
        manual_seed(61);
        const int features = 5;
        foreach (var (name, layer) in Layers(features))
        {
            var x = randn(4, features, dtype: ScalarType.Float64);
            var (y, logDet) = layer.ForwardWithLogDet(x);
            Check.TensorsClose(layer.Inverse(y, Precise), x, 1e-10, $"{name}: F⁻¹(F(x))");
            for (var row = 0; row < 4; row++)
            {
                var jacobian = Autograd.Jacobian(v => layer.ForwardWithLogDet(v.unsqueeze(0)).Output.squeeze(0), x[row]);
                var expected = linalg.slogdet(jacobian).Item2.ToDouble();
                Check.Close(logDet[row].ToDouble(), expected, 1e-10, $"{name}: log|det| of row {row}");
            }
        }
    }

    /// <summary>A zero-padded feature (constant over the batch) keeps unit scale: 1 / std there would make its first
    /// bias step move the output by about 10⁶ times the step.</summary>
    [TestMethod]
    public void ActNorm_ConstantFeature_KeepsUnitScale()
    {
        manual_seed(64);
        var layer = new ActNorm(3);
        var batch = cat([randn(100, 2), zeros(100, 1)], 1);
        layer.forward(batch);
        using var _ = no_grad();
        var (output, logDet) = layer.forward(cat([zeros(1, 2), ones(1, 1)], 1));
        Check.Close(output[0, 2].ToDouble(), 1, 1e-6, "the constant feature passes with unit scale");
        Assert.IsTrue(float.IsFinite(logDet.sum().ToSingle()), "a finite log-determinant");
    }

    [TestMethod]
    public void ActNorm_InitialisesFromTheFirstBatch()
    {
        manual_seed(62);
        var layer = new ActNorm(3);
        var batch = randn(500, 3).mul(tensor(new[] { 5f, 0.1f, 2f })).add(tensor(new[] { -3f, 7f, 0f }));
        var (output, _) = layer.forward(batch);
        Assert.IsTrue(layer.IsInitialized);
        Check.AtMost(output.mean([0]).abs().max().ToDouble(), 1e-5, "per-feature mean after initialisation");
        Check.AtMost(output.std(0, unbiased: false).sub(1).abs().max().ToDouble(), 1e-4, "per-feature std after initialisation");
    }

    [TestMethod]
    public void Flow_ReconstructsInput_Float32()
    {
        manual_seed(63);
        var flow = new InvertibleResNetFlow(6, new InvertibleResNetFlowOptions { Blocks = 3, HiddenFeatures = 32, Depth = 3, InvertibleLinear = true, Coefficient = 0.9 });
        flow.forward(randn(256, 6));
        flow.eval();
        var x = randn(100, 6);
        using var _ = no_grad();
        var (z, _) = flow.forward(x);
        var reconstructed = flow.Inverse(z, new ImplicitOptions { Forward = new FixedPointOptions { Tolerance = 5e-8 } });
        Check.AtMost(Check.MaxAbsDiff(reconstructed, x), 1e-5, "‖F⁻¹(F(x)) − x‖∞");
    }

    /// <summary>A float64 flow whose every layer is far from the identity: random LU factors, initialised ActNorms, random blocks.</summary>
    private static InvertibleResNetFlow RandomFlow(int features)
    {
        var flow = new InvertibleResNetFlow(features, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 8, InvertibleLinear = true, DType = ScalarType.Float64 });
        foreach (var layer in flow.Layers)
        {
            if (layer is InvertibleLinear linear)
                linear.Initialize(randn(features, features, dtype: ScalarType.Float64).mul(1.5));
            if (layer is ActNorm actNorm)
                actNorm.Initialize(randn(features, dtype: ScalarType.Float64), randn(features, dtype: ScalarType.Float64).mul(0.5));
        }
        flow.eval();
        return flow;
    }

    [TestMethod]
    public void InvertibleLinear_LogDet_MatchesSlogdet_OfRandomLuFactors()
    {
        manual_seed(65);
        var layer = new InvertibleLinear(6, ScalarType.Float64);
        var weight = randn(6, 6, dtype: ScalarType.Float64).mul(2);
        layer.Initialize(weight);
        Check.TensorsClose(layer.Weight(), weight, 1e-12, "W assembled from its LU factors");
        var expected = linalg.slogdet(weight).Item2.ToDouble();
        Assert.IsTrue(Math.Abs(expected) > 1, $"a log-determinant far from the identity's 0 ({expected})");
        var (_, logDet) = layer.ForwardWithLogDet(randn(3, 6, dtype: ScalarType.Float64));
        Check.TensorsClose(logDet, full(3, expected, dtype: ScalarType.Float64), 1e-12, "log|det W| per row");
    }

    [TestMethod]
    public void Flow_LogProb_IsBaseDensityPlusLogDet_AndLogDetIsThatOfTheFullJacobian()
    {
        manual_seed(64);
        var flow = RandomFlow(3);
        var x = randn(5, 3, dtype: ScalarType.Float64);
        var (z, logDet) = flow.forward(x);
        var expected = z.square().sum(dim: 1).mul(-0.5).sub(1.5 * Math.Log(2 * Math.PI)).add(logDet);
        Check.TensorsClose(flow.LogProb(x), expected, 1e-12, "log p(x)");
        for (var row = 0; row < 5; row++)
        {
            var jacobianLogDet = linalg.slogdet(Autograd.Jacobian(v => flow.forward(v.unsqueeze(0)).Latent.squeeze(0), x[row])).Item2.ToDouble();
            Check.Close(logDet[row].ToDouble(), jacobianLogDet, 1e-10, $"row {row}: flow log|det| vs the autograd Jacobian's");
        }
    }

    [TestMethod]
    public void GaussianStart_IsExactlyTheRegularisedGaussian()
    {
        manual_seed(66);
        var mixing = randn(4, 4, dtype: ScalarType.Float64);
        var data = randn(500, 4, dtype: ScalarType.Float64).mm(mixing).add(tensor(new[] { 1.0, -2, 3, 0 }, dtype: ScalarType.Float64));
        var flow = RandomFlow(4);
        flow.InitializeGaussian(data, regularization: 0.01);

        var mean = data.mean([0]);
        var centred = data.sub(mean);
        var covariance = centred.t().mm(centred).div(500);
        covariance = covariance.add(eye(4, dtype: ScalarType.Float64).mul(0.01 * covariance.diagonal().mean().ToDouble()));
        var x = randn(20, 4, dtype: ScalarType.Float64).mul(2);
        var difference = x.sub(mean);
        var mahalanobis = difference.mm(linalg.inv(covariance)).mul(difference).sum(dim: 1);
        var expected = mahalanobis.mul(-0.5).sub(0.5 * linalg.slogdet(covariance.mul(2 * Math.PI)).Item2.ToDouble());
        using var _ = no_grad();
        Check.TensorsClose(flow.LogProb(x), expected, 1e-9, "log p(x) of the Gaussian start vs log N(x; μ, Σ')");
    }

    [TestMethod]
    public void BadInput_FailsWithClearMessages()
    {
        var flow = new InvertibleResNetFlow(4, new InvertibleResNetFlowOptions { Blocks = 1, HiddenFeatures = 8 });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => flow.forward(ones(3, 5))).Message, "[batch, 4]");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new InvertibleResNetFlow(4, new InvertibleResNetFlowOptions { Blocks = 0 })).Message, "Blocks");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => flow.Sample(0));
    }
}
