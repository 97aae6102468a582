using Invertible.ML.Trainers;
using Invertible.Tests.Support;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.Tests.ML;

/// <summary>
/// The promise of the defaults, out of sample: where a linear model is the truth and the data are few (150 rows of 10
/// features), the trainers decide on out-of-fold evidence and end no worse on fresh rows than a linear model fitted
/// to the same rows — beyond the noise of the 4 000-row test sample.
/// </summary>
[TestClass]
public sealed class DefaultsPromiseTests
{
    private const int Width = 10;

    private sealed class Row
    {
        [VectorType(Width)]
        public float[] Features { get; set; } = [];
        public bool Label { get; set; }
        public float Target { get; set; }
    }

    /// <summary>y = w·x + noise: Label its sign (a fifth of the labels flipped by the noise), Target its value.</summary>
    private static IDataView Linear(MLContext context, int rows, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var weights = Enumerable.Range(0, Width).Select(j => 1.0 / (j + 1)).ToArray();
        return context.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(_ =>
        {
            var x = Enumerable.Range(0, Width).Select(_ => (float)Normal()).ToArray();
            var signal = x.Select((v, j) => v * weights[j]).Sum() + 0.5 * Normal();
            return new Row { Features = x, Label = signal > 0, Target = (float)signal };
        }).ToList());
    }

    [TestMethod]
    public void BinaryDeepEquilibrium_OnLinearTruth_IsNotBelowTheLinearModel()
    {
        var gaps = new List<double>();
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var context = new MLContext(seed);
            var (train, test) = (Linear(context, 150, seed), Linear(context, 4000, 100 + seed));
            var ours = context.BinaryClassification.Evaluate(context.BinaryClassification.Trainers.DeepEquilibrium().Fit(train).Transform(test)).Accuracy;
            var linear = context.BinaryClassification.Evaluate(context.BinaryClassification.Trainers.LbfgsLogisticRegression().Fit(train).Transform(test)).Accuracy;
            gaps.Add(ours - linear);
        }
        Console.WriteLine($"accuracy − linear accuracy per seed: {string.Join(", ", gaps.Select(g => g.ToString("F4")))}");
        // A 4 000-row accuracy has a standard error of about 0.007.
        Assert.IsTrue(gaps.All(g => g > -0.02) && gaps.Average() > -0.01, $"gaps {string.Join(", ", gaps)}");
    }

    [TestMethod]
    public void RegressionDeepEquilibrium_OnLinearTruth_IsNotBelowTheLinearModel()
    {
        var gaps = new List<double>();
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var context = new MLContext(seed);
            var (train, test) = (Linear(context, 150, seed), Linear(context, 4000, 100 + seed));
            var ours = context.Regression.Evaluate(context.Regression.Trainers.DeepEquilibrium(labelColumnName: "Target").Fit(train).Transform(test), "Target").RSquared;
            var linear = context.Regression.Evaluate(context.Regression.Trainers.Sdca("Target").Fit(train).Transform(test), "Target").RSquared;
            gaps.Add(ours - linear);
        }
        Console.WriteLine($"R² − linear R² per seed: {string.Join(", ", gaps.Select(g => g.ToString("F4")))}");
        Assert.IsTrue(gaps.All(g => g > -0.02) && gaps.Average() > -0.01, $"gaps {string.Join(", ", gaps)}");
    }
}
