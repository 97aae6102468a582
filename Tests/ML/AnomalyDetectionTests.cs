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

    private sealed class WideRow
    {
        [VectorType(30)]
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    /// <summary>
    /// 30 correlated features (a random linear mixing of 10 latent factors, one of them squared, plus noise); anomalies
    /// break the mixing by flipping the sign of the squared factor's contribution.
    /// </summary>
    private static (IDataView Train, IDataView Test, Tensor TrainRows, Tensor TestRows, float[] Labels) ThirtyFeatures(MLContext context, int seed)
    {
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        var mixing = randn([10, 30], generator: new TorchSharp.torch.Generator(99));
        Tensor Make(int rows, bool anomaly)
        {
            var factors = randn([rows, 10], generator: generator);
            var curved = factors[.., 0].square().sub(1).mul(anomaly ? -1.5 : 1.5);
            factors = torch.cat([curved.unsqueeze(1), factors[.., 1..]], 1);
            return factors.mm(mixing).add(randn([rows, 30], generator: generator).mul(0.3));
        }
        var train = Make(300, false);
        var test = torch.cat([Make(200, false), Make(50, true)], 0);
        var labels = Enumerable.Repeat(0f, 200).Concat(Enumerable.Repeat(1f, 50)).ToArray();
        IDataView View(Tensor rows, float[] labelValues)
        {
            var values = rows.data<float>().ToArray();
            return context.Data.LoadFromEnumerable(Enumerable.Range(0, (int)rows.shape[0]).Select(i => new WideRow { Features = values[(i * 30)..((i + 1) * 30)], Label = labelValues[i] }).ToList());
        }
        return (View(train, new float[300]), View(test, labels), train, test, labels);
    }

    [TestMethod]
    public void DefaultDetector_IsNeverWorseThanAFullCovarianceGaussian_OnAFewHundredRowsOfThirtyFeatures()
    {
        var (flowAuc, gaussianAuc) = (0.0, 0.0);
        foreach (var seed in new[] { 1, 2 })
        {
            var context = new MLContext(seed);
            var (train, test, trainRows, testRows, labels) = ThirtyFeatures(context, seed);
            var model = context.AnomalyDetection.Trainers.InvertibleResNet(new InvertibleResNetAnomalyOptions { Epochs = 60 }).Fit(train);
            flowAuc += context.AnomalyDetection.Evaluate(model.Transform(test)).AreaUnderRocCurve / 2;

            // The baseline: a full-covariance Gaussian fitted to the same rows by maximum likelihood.
            var trainData = trainRows.to(ScalarType.Float64);
            var mean = trainData.mean([0]);
            var centred = trainData.sub(mean);
            var covariance = centred.t().mm(centred).div(300).add(eye(30, dtype: ScalarType.Float64).mul(1e-9));
            var difference = testRows.to(ScalarType.Float64).sub(mean);
            var score = difference.mm(linalg.inv(covariance)).mul(difference).sum(dim: 1).data<double>().ToArray();
            gaussianAuc += Auc(score, labels) / 2;
        }
        Check.Less(gaussianAuc - 0.005, flowAuc, $"mean AUC of the default flow vs the Gaussian's {gaussianAuc:F4}");
    }

    private static double Auc(double[] score, float[] labels)
    {
        var positives = score.Where((_, i) => labels[i] == 1).ToArray();
        var negatives = score.Where((_, i) => labels[i] == 0).ToArray();
        return positives.Sum(p => negatives.Sum(n => p > n ? 1.0 : p == n ? 0.5 : 0)) / (positives.Length * (double)negatives.Length);
    }
}
