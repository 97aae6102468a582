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
}
