using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.LogDet;
using Invertible.Torch.Onnx;
using Invertible.Torch.Solvers;
using Invertible.Torch.Training;
using static TorchSharp.torch;

namespace Invertible.Tests.Flows;

/// <summary>The multi-scale convolutional flow (<see cref="InvertibleResNetFlowOptions.Image"/>) on 2×4×4 images.</summary>
[TestClass]
public sealed class ImageFlowTests
{
    private static readonly ImageShape Image = new(2, 4, 4);

    private static InvertibleResNetFlowOptions Options(ScalarType dtype, bool fullCovariance = false) => new()
    {
        Image = Image, Blocks = 2, HiddenFeatures = 8, InvertibleLinear = true, Coefficient = 0.9, DType = dtype, FullCovariance = fullCovariance,
        ConditionalFactorOut = true,
    };

    // Correlated images: a few smooth patterns mixed at random, plus noise.
    private static Tensor Images(int count, ScalarType dtype, int seed)
    {
        var generator = new Generator((ulong)seed);
        var patterns = randn(4, Image.Size, dtype: dtype, generator: new Generator(99));
        return randn(count, 4, dtype: dtype, generator: generator).mm(patterns).add(randn(count, Image.Size, dtype: dtype, generator: generator).mul(0.3));
    }

    private static InvertibleResNetFlow Trained(ScalarType dtype) => Trained(Options(dtype));

    private static InvertibleResNetFlow Trained(InvertibleResNetFlowOptions options)
    {
        var dtype = options.DType;
        manual_seed(7);
        var flow = new InvertibleResNetFlow(Image.Size, options, new Generator(3));
        var data = Images(600, dtype, 1);
        Trainer.Fit(flow, [data], (batch, _) => flow.LogProb(batch[0]).mean().neg(), new TrainerOptions { Epochs = 4, BatchSize = 100, LearningRate = 5e-3, ValidationFraction = 0 });
        flow.eval();
        return flow;
    }

    [TestMethod]
    public void Layout_SqueezesAtEachScale_AndLaterScalesLeaveTheFactoredOutHalfAlone()
    {
        var flow = new InvertibleResNetFlow(Image.Size, Options(ScalarType.Float64), new Generator(3));
        // 2×4×4 → squeeze 8×2×2 → blocks → condition and factor out 4×2×2 → squeeze 16×1×1 → blocks.
        var squeezes = flow.Layers.Select(l => l is LeadingFeatures w ? w.Layer : l).OfType<SpaceToDepth>().Select(s => s.Output).ToArray();
        CollectionAssert.AreEqual(new[] { new ImageShape(8, 2, 2), new ImageShape(16, 1, 1) }, squeezes);
        Assert.AreEqual(new ImageShape(8, 2, 2), flow.Layers.OfType<ConditionalFactorOut>().Single().Image, "the first scale's output, conditioned before the factor-out");
        var later = flow.Layers.OfType<LeadingFeatures>().ToArray();
        Assert.IsTrue(later.Length > 0 && later.All(l => l.Layer.Features == 16), "the second scale acts on the leading 16 of 32 features");

        flow.eval();
        var x = Images(5, ScalarType.Float64, 2);
        Tensor before;
        using (no_grad())
        {
            before = flow.forward(x).Latent;
            foreach (var parameter in later.SelectMany(l => ((nn.Module)l).parameters()))
                parameter.add_(randn_like(parameter).mul(0.5));
        }
        var after = flow.forward(x).Latent.detach();
        Check.AtMost(Check.MaxAbsDiff(after[.., 16..], before[.., 16..]), 1e-12, "the factored-out half does not depend on the second scale");
        Assert.IsTrue(after[.., ..16].sub(before[.., ..16]).abs().max().ReadDouble() > 1e-3, "the second scale transforms the other half");
    }

    [TestMethod]
    public void LogDet_IsTheExactLogDeterminantOfTheWholeFlowsJacobian()
    {
        var flow = Trained(ScalarType.Float64);
        var x = Images(3, ScalarType.Float64, 5);
        var (_, logDet) = flow.ForwardWithLogDet(x);
        for (var row = 0; row < 3; row++)
        {
            var jacobian = Autograd.Jacobian(r => flow.ForwardWithLogDet(r.unsqueeze(0)).Output.squeeze(0), x[row]);
            Check.Close(logDet[row].ReadDouble(), linalg.slogdet(jacobian).Item2.ReadDouble(), 1e-8, $"row {row}: log|det J_F|");
        }
    }

    [TestMethod]
    public void TrainedFloat32Flow_LearnsTheImages_AndInvertsTo1e4()
    {
        var flow = Trained(ScalarType.Float32);
        var test = Images(500, ScalarType.Float32, 3);
        var untrained = new InvertibleResNetFlow(Image.Size, Options(ScalarType.Float32), new Generator(3));
        untrained.train();
        using (no_grad())
        {
            untrained.forward(Images(600, ScalarType.Float32, 1)); // ActNorm's data-dependent start only
            untrained.eval();
            var (trainedNll, startNll) = (flow.LogProb(test).mean().neg().ReadDouble(), untrained.LogProb(test).mean().neg().ReadDouble());
            Assert.IsTrue(trainedNll < startNll - 5, $"training lowered the held-out NLL from {startNll:F2} to {trainedNll:F2} nats");
            var latent = flow.forward(test).Latent;
            var back = flow.InverseWithStatistics(latent);
            Assert.IsTrue(back.RowConverged().All(c => c), "every inverse converged");
            Check.AtMost(Check.MaxAbsDiff(back.Input, test), 1e-4, "F⁻¹(F(x)) = x in float32");
            var samples = flow.Sample(64, new Generator(4)).Input;
            Assert.IsTrue(samples.isfinite().all().item<bool>() && samples.shape[1] == Image.Size, "samples are finite images");
        }
    }

    [TestMethod]
    [DataRow(1, false)]
    [DataRow(33, false)]
    [DataRow(1, true)]
    [DataRow(33, true)]
    public void Onnx_ForwardLogLikelihoodAndInverse_MatchTorchSharp(int batch, bool fixedProbes)
    {
        var flow = Trained(ScalarType.Float32);
        if (fixedProbes)
            foreach (var block in flow.modules().OfType<ResidualBlockBase>())
                block.EvaluationLogDet = new LogDetOptions { Method = LogDetMethod.FixedProbeSeries, Terms = 5, Probes = 2, ProbeSeed = 9 };
        var x = Images(batch, ScalarType.Float32, 10 + batch);
        var picard = new ImplicitOptions { Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard } };
        using var _ = no_grad();
        var latent = flow.forward(x).Latent;
        var forward = OnnxRunner.Run(FlowExporter.ExportForward(flow), ("x", x));
        Check.TensorsClose(forward["latent"], latent, 1e-5, $"batch {batch}: latent");
        Check.TensorsClose(forward["log_likelihood"], flow.LogProb(x), 2e-4, $"batch {batch}, fixed probes {fixedProbes}: log-likelihood");
        var back = OnnxRunner.Run(FlowExporter.ExportInverse(flow), ("latent", latent));
        Check.TensorsClose(back["x"], flow.Inverse(latent, picard), 1e-5, $"batch {batch}: inverse vs TorchSharp");
        Check.TensorsClose(back["x"], x, 1e-4, $"batch {batch}: inverse vs the images");
    }

    [TestMethod]
    public void FullCovarianceStart_IsExactlyTheRegularisedGaussianOfThePixels()
    {
        // 1×8×8: the first two squeezes permute the flat values (on 2×2 maps a squeeze keeps the flat order).
        var image = new ImageShape(1, 8, 8);
        var flow = new InvertibleResNetFlow(image.Size, new InvertibleResNetFlowOptions
        {
            Image = image, Blocks = 1, HiddenFeatures = 8, InvertibleLinear = true, DType = ScalarType.Float64, FullCovariance = true,
        }, new Generator(3));
        using (no_grad())
            foreach (var parameter in flow.parameters())
                parameter.add_(randn_like(parameter).mul(0.3)); // every layer away from the identity the start must restore
        var generator = new Generator(1);
        var mixing = randn(image.Size, image.Size, dtype: ScalarType.Float64, generator: generator).div(4);
        Tensor Rows(int count) => randn(count, image.Size, dtype: ScalarType.Float64, generator: generator).mm(mixing)
            .add(arange(image.Size, dtype: ScalarType.Float64).mul(0.1));
        var data = Rows(400);
        flow.InitializeGaussian(data, regularization: 0.01);

        var mean = data.mean([0]);
        var centred = data.sub(mean);
        var covariance = centred.t().mm(centred).div(data.shape[0]);
        covariance = covariance.add(eye(image.Size, dtype: ScalarType.Float64).mul(0.01 * covariance.diagonal().mean().ReadDouble()));
        var x = Rows(20).mul(1.5);
        var difference = x.sub(mean);
        var expected = difference.mm(linalg.inv(covariance)).mul(difference).sum(dim: 1).mul(-0.5)
            .sub(0.5 * linalg.slogdet(covariance.mul(2 * Math.PI)).Item2.ReadDouble());
        flow.eval();
        using var _ = no_grad();
        Check.TensorsClose(flow.LogProb(x), expected, 1e-9, "log p(x) of the start vs log N(x; μ, Σ') over the image's values");
    }

    [TestMethod]
    public void TrainedFullCovarianceFlow_InvertsTo1e4_AndMatchesOnnx()
    {
        var flow = Trained(Options(ScalarType.Float32, fullCovariance: true));
        Assert.AreEqual(2, flow.Layers.Skip(flow.Layers.Count - 2).Count(l => l.Features == Image.Size && l is ActNorm { Image: null } or InvertibleLinear { Image: null }), "the dense layers close the flow");
        var untrained = new InvertibleResNetFlow(Image.Size, Options(ScalarType.Float32, fullCovariance: true), new Generator(3));
        Check.Identical(((InvertibleLinear)flow.Layers[^1]).Weight().detach(), ((InvertibleLinear)untrained.Layers[^1]).Weight().detach(), "training leaves the dense d × d layer as it was set");
        var x = Images(33, ScalarType.Float32, 21);
        using var _ = no_grad();
        var latent = flow.forward(x).Latent;
        var back = flow.InverseWithStatistics(latent);
        Assert.IsTrue(back.RowConverged().All(c => c), "every inverse converged");
        Check.AtMost(Check.MaxAbsDiff(back.Input, x), 1e-4, "F⁻¹(F(x)) = x in float32");
        var forward = OnnxRunner.Run(FlowExporter.ExportForward(flow), ("x", x));
        Check.TensorsClose(forward["latent"], latent, 1e-5, "ONNX latent");
        Check.TensorsClose(forward["log_likelihood"], flow.LogProb(x), 2e-4, "ONNX log-likelihood");
        Check.TensorsClose(OnnxRunner.Run(FlowExporter.ExportInverse(flow), ("latent", latent))["x"], x, 1e-4, "ONNX inverse vs the images");
    }

    [TestMethod]
    public void Onnx_EveryInitializerIsReadByANode()
    {
        var flow = new InvertibleResNetFlow(Image.Size, Options(ScalarType.Float32), new Generator(3));
        flow.eval();
        foreach (var model in new[] { FlowExporter.ExportForward(flow), FlowExporter.ExportInverse(flow) })
        {
            var read = model.Graph.Node.SelectMany(n => n.Input).Concat(model.Graph.Node.SelectMany(n => n.Attribute).Where(a => a.G is not null).SelectMany(a => a.G.Node.SelectMany(n => n.Input))).ToHashSet();
            var unused = model.Graph.Initializer.Select(i => i.Name).Where(n => !read.Contains(n)).ToArray();
            Assert.AreEqual(0, unused.Length, $"{model.DocString}: unused initializers {string.Join(", ", unused.Take(5))} (ONNX Runtime warns on every load)");
        }
    }

    [TestMethod]
    public void Checkpoint_RestoresTheImageFlow()
    {
        var flow = Trained(ScalarType.Float32);
        var path = Path.Combine(Path.GetTempPath(), $"image-flow-{Guid.NewGuid():N}.ckpt");
        try
        {
            Torch.Persistence.Checkpoint.Save(flow, path);
            var restored = Torch.Persistence.Checkpoint.Load<InvertibleResNetFlow>(path);
            restored.eval();
            var x = Images(7, ScalarType.Float32, 20);
            using var _ = no_grad();
            Check.TensorsClose(restored.LogProb(x), flow.LogProb(x), 1e-5, "log-likelihood after the round trip");
            Assert.AreEqual(Image, restored.Options.Image);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ShapesThatDoNotFit_AreNamed()
    {
        var odd = Assert.ThrowsExactly<ArgumentException>(() => new InvertibleResNetFlow(15, new InvertibleResNetFlowOptions { Image = new ImageShape(1, 3, 5) }));
        StringAssert.Contains(odd.Message, "must be even; got 1×3×5");
        var scales = Assert.ThrowsExactly<ArgumentException>(() => new InvertibleResNetFlow(32, new InvertibleResNetFlowOptions { Image = Image, Scales = 3 }));
        Assert.AreEqual("Scales", scales.ParamName);
        StringAssert.Contains(scales.Message, "2×4×4 allows 2");
        var size = Assert.ThrowsExactly<ArgumentException>(() => new InvertibleResNetFlow(30, new InvertibleResNetFlowOptions { Image = Image }));
        StringAssert.Contains(size.Message, "holds 32 values, but rows have 30 features");
        var fashion = new InvertibleResNetFlow(784, new InvertibleResNetFlowOptions { Image = new ImageShape(1, 28, 28), Blocks = 1, HiddenFeatures = 4 });
        Assert.AreEqual(2, fashion.Layers.Count(l => (l is LeadingFeatures w ? w.Layer : l) is SpaceToDepth), "28 → 14 → 7: two scales by default");
        Assert.IsTrue(fashion.modules().OfType<ResidualBlockBase>().All(b => b.EvaluationLogDet.Method == LogDetMethod.FixedProbeSeries), "784 values: the fixed-probe series in evaluation");
        Assert.IsTrue(new InvertibleResNetFlow(32, new InvertibleResNetFlowOptions { Image = Image, Blocks = 1 }).modules().OfType<ResidualBlockBase>().All(b => b.EvaluationLogDet.Method == LogDetMethod.Exact), "32 values: exact");
    }
}
