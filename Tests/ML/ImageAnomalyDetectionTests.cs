using Invertible.ML.Trainers;
using Invertible.Samples.Shared;
using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.Tests.ML;

/// <summary>The anomaly detector over images: one-class detection on the 8×8 digits as 1×8×8 images.</summary>
[TestClass]
public sealed class ImageAnomalyDetectionTests
{
    private sealed class Row
    {
        [VectorType(64)]
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    [TestMethod]
    public void TrainedOnOneDigit_FlagsTheOthers_AndSavesForOnnxRuntime()
    {
        var context = new MLContext(3);
        var (train, test) = Digits.Load().StratifiedSplit(0.3, 2);
        var random = new Random(4);
        Row Image(float[] pixels, bool anomaly) => new() { Features = [.. pixels.Select(v => (v + (float)random.NextDouble()) / 17f)], Label = anomaly ? 1 : 0 };
        const int normalDigit = 0;
        var normal = context.Data.LoadFromEnumerable(train.Pixels.Where((_, i) => train.Labels[i] == normalDigit).Select(p => Image(p, false)).ToList());
        var scoredRows = context.Data.LoadFromEnumerable(test.Pixels.Select((p, i) => Image(p, test.Labels[i] != normalDigit)).ToList());
        var detector = context.AnomalyDetection.Trainers.InvertibleResNet(new InvertibleResNetAnomalyOptions { Image = new ImageShape(1, 8, 8), Epochs = 8 }).Fit(normal);
        Assert.AreEqual(new ImageShape(1, 8, 8), detector.Model.Options.Image, "the detector's flow is the convolutional image flow");
        Assert.IsTrue(detector.Model.Options.FullCovariance && detector.Model.Options.LogitAlpha is null, "image detectors start from the pixels' Gaussian, without a logit");
        var scored = detector.Transform(scoredRows);
        var auc = context.AnomalyDetection.Evaluate(scored).AreaUnderRocCurve;
        var pca = context.AnomalyDetection.Trainers.RandomizedPca(rank: 8).Fit(normal);
        var pcaAuc = context.AnomalyDetection.Evaluate(pca.Transform(scoredRows)).AreaUnderRocCurve;
        Console.WriteLine($"AUROC, digit {normalDigit} normal: image flow {auc:F4}, RandomizedPca {pcaAuc:F4}");
        Check.Less(0.99, auc, "AUROC of the other digits against the trained one");
        Check.Less(pcaAuc, auc, "AUROC above RandomizedPca's");

        var path = Path.Combine(Path.GetTempPath(), $"image-anomaly-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(detector, normal.Schema, path);
            var loaded = new MLContext().Model.Load(path, out _).Transform(scoredRows);
            // Plain Load reads the score as a one-element vector (ML.NET 6 reads no rank-1 scalars per row; see the guide).
            var (expected, actual) = (MlData.Scalars(scored, "Score"), MlData.Column(loaded, "Score").squeeze(1));
            Check.AtMost(expected.sub(actual).abs().div(expected.abs().clamp_min(1)).max().ReadDouble(), 1e-4, "saved model's scores through ONNX Runtime (relative)");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ImageDetector_StartsAsTheFullCovarianceGaussianOfThePixels()
    {
        var context = new MLContext(5);
        var random = new Random(6);
        var pixels = Digits.Load().Pixels.Take(300).Select(p => p.Select(v => (v + (float)random.NextDouble()) / 17f).ToArray()).ToArray();
        var rows = context.Data.LoadFromEnumerable(pixels.Select(p => new Row { Features = p }).ToList());
        // One step at a negligible learning rate and no validation rows: the fitted flow is its start.
        var detector = context.AnomalyDetection.Trainers.InvertibleResNet(new InvertibleResNetAnomalyOptions
        {
            Image = new ImageShape(1, 8, 8), Epochs = 1, BatchSize = 300, LearningRate = 1e-12, ValidationFraction = 0, CovarianceRegularization = 0.05,
        }).Fit(rows);

        var data = TorchSharp.torch.tensor(pixels.SelectMany(p => p.Select(v => (double)v)).ToArray(), [pixels.Length, 64]);
        var mean = data.mean([0]);
        var centred = data.sub(mean);
        var covariance = centred.t().mm(centred).div(pixels.Length);
        covariance = covariance.add(TorchSharp.torch.eye(64, dtype: TorchSharp.torch.ScalarType.Float64).mul(0.05 * covariance.diagonal().mean().ReadDouble()));
        var difference = data.sub(mean);
        var expected = difference.mm(TorchSharp.torch.linalg.inv(covariance)).mul(difference).sum(dim: 1).mul(0.5)
            .add(0.5 * TorchSharp.torch.linalg.slogdet(covariance.mul(2 * Math.PI)).Item2.ReadDouble());
        var scores = MlData.Scalars(detector.Transform(rows), "Score").to(TorchSharp.torch.ScalarType.Float64);
        Check.AtMost(scores.sub(expected).abs().div(expected.abs().clamp_min(1)).max().ReadDouble(), 1e-4, "score −log p(x) vs −log N(x; μ, Σ + λ · mean variance · I) (relative)");
    }
}
