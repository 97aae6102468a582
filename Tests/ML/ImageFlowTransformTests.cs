using Invertible.ML.Checks;
using Invertible.ML.Flows;
using Invertible.Samples.Shared;
using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Layers;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Tests.ML;

/// <summary>The flow transform on images (<see cref="InvertibleResNetOptions.Image"/>): the 8×8 digits as 1×8×8 images.</summary>
[TestClass]
public sealed class ImageFlowTransformTests
{
    private static readonly ImageShape Digit = new(1, 8, 8);

    private sealed class Row
    {
        [VectorType(64)]
        public float[] Features { get; set; } = [];
    }

    // Pixels 0..16 dequantised (uniform noise in each level's bin, seeded) and scaled to [0, 1].
    private static IDataView Images(MLContext context, Digits digits, int seed)
    {
        var random = new Random(seed);
        return context.Data.LoadFromEnumerable(digits.Pixels.Select(p => new Row { Features = [.. p.Select(v => (v + (float)random.NextDouble()) / 17f)] }).ToList());
    }

    private static (MLContext Context, IDataView Train, IDataView Test) Data()
    {
        var context = new MLContext(1);
        var (train, test) = Digits.Load().StratifiedSplit(0.2, 1);
        return (context, Images(context, train, 1), Images(context, test, 2));
    }

    private static (MLContext Context, IDataView Train, IDataView Test, InvertibleResNetTransformer Flow) Fitted()
    {
        var (context, train, test) = Data();
        return (context, train, test, context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Image = Digit, Epochs = 6, Blocks = 2 }).Fit(train));
    }

    [TestMethod]
    public void ImageFlow_LearnsTheDigits_ReportsBitsPerDimension_AndInverts()
    {
        var (_, _, test, flow) = Fitted();
        Assert.AreEqual(Digit, flow.Model.Options.Image, "a convolutional multi-scale flow");
        Assert.AreEqual(InvertibleResNetOptions.Defaults.ImageLogitAlpha, flow.Model.Options.LogitAlpha, "values in [0, 1]: the logit transform by default");
        // 8×8 → three scales: the second and third each condition the channels the scale before factors out. The trained
        // flow inverts below (F⁻¹(F(x)) to 1e-4) through them.
        var factorOuts = flow.Model.Layers.Select(layer => layer is LeadingFeatures leading ? leading.Layer : layer).OfType<ConditionalFactorOut>();
        Assert.AreEqual("4×4×4 2×2×8", string.Join(" ", factorOuts.Select(f => $"{f.Image.Height}×{f.Image.Width}×{f.Image.Channels}")),
            "a conditional factor-out before each later scale, by default");
        Assert.AreEqual(nameof(InvertibleResNetOptions.ConditionalFactorOut), Assert.ThrowsExactly<ArgumentException>(
            () => new InvertibleResNetOptions { ConditionalFactorOut = true }.Validate()).ParamName, "rows factor nothing out");
        var report = flow.TrainingReport!;
        var (first, best) = (report.History[0].ValidationLoss!.Value, report.BestValidationLoss!.Value);
        Console.WriteLine($"held-out NLL: first record {first:F2}, best {best:F2} nats (epoch {report.BestEpoch}), {report.Elapsed.TotalSeconds:F0} s");
        Assert.IsTrue(best < first - 8, $"training lowered the held-out NLL from {first:F2} to {best:F2} nats");
        var scored = flow.Transform(test);
        var (logLikelihood, bits) = (MlData.Scalars(scored, "LogLikelihood"), MlData.Scalars(scored, "BitsPerDimension"));
        Check.TensorsClose(bits, logLikelihood.div(-64 * Math.Log(2)), 1e-5, "bits per dimension = −log p / (d ln 2)");
        Check.AtMost(TransformerChecks.RoundTrip(flow, scored), 1e-4, "F⁻¹(F(x)) vs x on held-out images, every row converged");
        var samples = flow.Sample(16, seed: 3);
        Assert.AreEqual(64, ((VectorDataViewType)samples.Schema["Features"].Type).Size, "samples are rows of the image's size");
    }

    [TestMethod]
    public void SaveThenLoad_ScoresTheImageFlowWithOnnxRuntime()
    {
        var (context, train, test, flow) = Fitted();
        var path = Path.Combine(Path.GetTempPath(), $"image-flow-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(flow, train.Schema, path);
            var expected = flow.Transform(test);
            var loaded = new MLContext().Model.Load(path, out _).Transform(test);
            Check.TensorsClose(MlData.Column(loaded, "Latent"), MlData.Column(expected, "Latent"), 1e-5, "plain Load (ONNX): latent");
            Check.TensorsClose(MlData.Column(loaded, "LogLikelihood").squeeze(1), MlData.Scalars(expected, "LogLikelihood"), 2e-3, "plain Load (ONNX): log-likelihood");
            Check.TensorsClose(MlData.Column(loaded, "BitsPerDimension").squeeze(1), MlData.Scalars(expected, "BitsPerDimension"), 1e-4, "plain Load (ONNX): bits per dimension");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void WithTheLogit_AValueOutsideTheUnitInterval_IsNamedWhenScored()
    {
        var (context, _, _, flow) = Fitted();
        var bad = Enumerable.Repeat(0.5f, 64).ToArray();
        bad[10] = 1.7f;
        var view = context.Data.LoadFromEnumerable(new[] { new Row { Features = bad } });
        var error = Assert.ThrowsExactly<ArgumentException>(() => flow.Transform(view).GetColumn<float>("LogLikelihood").ToArray());
        StringAssert.Contains(error.Message, "slot 10 of a row holds 1.7");
    }

    [TestMethod]
    public void AnImageOfAnotherSize_IsNamed()
    {
        var (context, train, _) = Data();
        var error = Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Image = new ImageShape(1, 8, 6) }).Fit(train));
        StringAssert.Contains(error.Message, "Column 'Features' holds 64 values per row, but Image 1×8×6 holds 48");
    }
}
