using Invertible.ML.Trainers;
using Invertible.Tests.Support;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Tests.ML;

[TestClass]
public sealed class AnomalyDetectionTests
{
    private sealed class Row
    {
        [VectorType(8)]
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    /// <summary>Normal rows on a curved 1-D manifold in 8 dimensions; anomalies off it, with the same marginal spread.</summary>
    private static IDataView Rows(MLContext context, int normal, int anomalies, int seed)
    {
        var random = new Random(seed);
        IEnumerable<Row> Make(int count, bool anomaly) => Enumerable.Range(0, count).Select(_ =>
        {
            var t = random.NextDouble() * 4 - 2;
            var f = Enumerable.Range(0, 8).Select(j => (float)((anomaly ? Math.Cos(t * (j + 1)) : Math.Sin(t * (j + 1))) + 0.05 * (random.NextDouble() - 0.5))).ToArray();
            return new Row { Features = f, Label = anomaly ? 1 : 0 };
        });
        return context.Data.LoadFromEnumerable(Make(normal, false).Concat(Make(anomalies, true)).ToList());
    }

    [TestMethod]
    public void Detector_EvaluatesInMlNet_ScoreIsNegativeLogLikelihood_AndTheThresholdKeepsTheFalsePositiveRate()
    {
        var context = new MLContext(2);
        var train = Rows(context, 600, 0, 1);
        var test = Rows(context, 400, 100, 2);
        var model = context.Transforms.NormalizeMeanVariance("Features")
            .Append(context.AnomalyDetection.Trainers.InvertibleResNet(new InvertibleResNetAnomalyOptions { Epochs = 40, FalsePositiveRate = 0.1 }))
            .Fit(train);
        var scored = model.Transform(test);
        var metrics = context.AnomalyDetection.Evaluate(scored);
        Check.Less(0.95, metrics.AreaUnderRocCurve, "AUC of anomalies off the normal rows' manifold");
        var labels = scored.GetColumn<float>("Label").ToArray();
        var flagged = scored.GetColumn<bool>("PredictedLabel").ToArray();
        var falsePositiveRate = labels.Zip(flagged).Count(p => p.First == 0 && p.Second) / (double)labels.Count(l => l == 0);
        Check.Less(Math.Abs(falsePositiveRate - 0.1), 0.06, $"false-positive rate on new normal rows ({falsePositiveRate:F3}) near the chosen 0.1");
        var flow = model.LastTransformer.Model;
        var normalized = MlData.Column(model.Transform(test), "Features");
        using var _ = no_grad();
        Check.TensorsClose(MlData.Scalars(scored, "Score"), flow.LogProb(normalized).neg(), 1e-4, "Score = −log p(x)");
    }
}
