using System.Globalization;
using Invertible.Benchmarks.Tabular;
using Invertible.Tests.Support;

namespace Invertible.Tests.Benchmarks;

/// <summary>The tabular suite: its split rule selects the peers' rows, and a run reports every trainer.</summary>
[TestClass]
public sealed class TabularSuiteTests
{
    /// <summary>
    /// Held-out rows printed by shared/peers/tabular_peers.py's own <c>test_rows</c> (stratified by class on glass, one
    /// group on boston, the normal rows of anomaly-pima): a different hash, seed formula, rounding or grouping moves them.
    /// </summary>
    [TestMethod]
    [DataRow("glass", 1, 43, new[] { 1, 8, 13, 15, 19, 20, 29, 37, 38, 42, 46, 55 })]
    [DataRow("glass", 5, 43, new[] { 9, 15, 20, 34, 35, 38, 41, 42, 45, 47, 50, 62 })]
    [DataRow("boston", 1, 101, new[] { 13, 15, 19, 37, 42, 69, 81, 87, 91, 92, 94, 98 })]
    [DataRow("boston", 5, 101, new[] { 9, 15, 20, 34, 35, 38, 41, 42, 47, 50, 62, 67 })]
    [DataRow("anomaly-pima", 1, 150, new[] { 1, 20, 29, 42, 46, 55, 59, 69, 81, 87, 91, 92 })]
    [DataRow("anomaly-pima", 5, 150, new[] { 12, 20, 34, 35, 36, 41, 42, 46, 47, 50, 58, 62 })]
    public void HeldOutRows_AreThePeersScriptsRows(string name, int split, int count, int[] first)
    {
        var data = SuiteDataSet.Load(name);
        var (train, test) = data.Split(split);
        var heldOut = data.Task == SuiteTask.Anomaly ? test.Where(r => !data.IsAnomaly(r)).ToArray() : test;
        Assert.AreEqual(count, heldOut.Length, "held-out rows");
        CollectionAssert.AreEqual(first, heldOut.Order().Take(first.Length).ToArray(), "the first held-out rows");
        Assert.IsFalse(train.Intersect(test).Any(), "no row is both trained on and held out");
        if (data.Task == SuiteTask.Anomaly)
        {
            Assert.IsFalse(train.Any(data.IsAnomaly), "anomaly detectors train on normal rows only");
            Assert.AreEqual(Enumerable.Range(0, data.Rows).Count(data.IsAnomaly), test.Count(data.IsAnomaly), "every anomaly is tested");
        }
        else
        {
            Assert.AreEqual(data.Rows, train.Length + test.Length, "every row is trained on or held out");
        }
    }

    /// <summary>Python's round: a group of 15 at 0.3 holds out round(4.5) = 4 rows (half to even), not 5.</summary>
    [TestMethod]
    public void HalfwayShares_RoundToEven()
    {
        Assert.HasCount(4, SuiteSplit.HeldOut([Enumerable.Range(0, 15).ToArray()], 1, 0.3));
        Assert.HasCount(2, SuiteSplit.HeldOut([Enumerable.Range(0, 5).ToArray()], 1, 0.3));
    }

    [TestMethod]
    public void Auroc_CountsTiesAsHalf_AndIsRankBased()
    {
        Assert.AreEqual(1.0, SuiteMetrics.Auroc([0.1, 0.2, 0.9, 0.8], [false, false, true, true]), 1e-12);
        Assert.AreEqual(0.0, SuiteMetrics.Auroc([0.9, 0.8, 0.1, 0.2], [false, false, true, true]), 1e-12);
        // One positive tied with one negative, above the other negative: (1 + 0.5) / 2.
        Assert.AreEqual(0.75, SuiteMetrics.Auroc([0.5, 0.5, 0.1], [true, false, false]), 1e-12);
        Assert.AreEqual(0.75, SuiteMetrics.Auroc([50, 50, -3], [true, false, false]), 1e-12);
    }

    /// <summary>The suite as a user runs it, on three small sets (binary and multiclass, regression, anomaly), one split.</summary>
    [TestMethod]
    public void OneSplitOnThreeSmallSets_ReportsEveryTrainer_WithFiniteMetrics()
    {
        var folder = Directory.CreateTempSubdirectory("tabular-suite-").FullName;
        try
        {
            var output = Processes.RunDotnet(Processes.Built("Benchmarks", "Benchmarks.dll"),
                "tabular", "--splits", "1", "--output", folder, "sonar", "ozone", "anomaly-glass");
            var lines = File.ReadAllLines(Path.Combine(folder, "tabular.tsv")).Skip(1).Select(l => l.Split('\t')).ToList();
            // The trainers shared/docs/BENCHMARKS.md names for each group, ours first.
            var expected = new (string Data, SuiteGroup Group, string[] Trainers)[]
            {
                ("sonar", SuiteGroup.Multiclass, ["DeepEquilibrium", "InvertibleResNet", "LightGbm", "FastForest", "FastTree", "SdcaMaximumEntropy", "LbfgsMaximumEntropy"]),
                ("sonar", SuiteGroup.Binary, ["DeepEquilibrium", "SdcaLogisticRegression", "LbfgsLogisticRegression", "LightGbm", "FastForest", "FastTree"]),
                ("ozone", SuiteGroup.Regression, ["DeepEquilibrium", "LightGbm", "FastForest", "FastTree", "Sdca", "LbfgsPoissonRegression"]),
                ("anomaly-glass", SuiteGroup.Anomaly, ["InvertibleResNet", "RandomizedPca", "Gaussian"]),
            };
            foreach (var (data, group, trainers) in expected)
            {
                foreach (var trainer in trainers)
                {
                    var line = lines.SingleOrDefault(l => l[0] == data && l[1] == group.ToString() && l[2] == trainer);
                    Assert.IsNotNull(line, $"{trainer} ({group}) is reported on {data}:\n{output}");
                    var mean = double.Parse(line[6], CultureInfo.InvariantCulture);
                    Assert.IsTrue(double.IsFinite(mean) && mean is > -1 and <= 1, $"{trainer} on {data}: {SuiteMetrics.NameOf(group)} {line[6]} ({line[10]})");
                    Assert.IsTrue(double.Parse(line[8], CultureInfo.InvariantCulture) > 0, $"{trainer} on {data}: seconds per fit");
                }
            }
            var markdown = File.ReadAllText(Path.Combine(folder, "tabular.md"));
            StringAssert.Contains(markdown, "| mean rank |");
            StringAssert.Contains(markdown, "**DeepEquilibrium** (ours)");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
