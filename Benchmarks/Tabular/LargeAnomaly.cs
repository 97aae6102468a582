using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.Benchmarks.Tabular;

/// <summary>
/// <c>dotnet run -c Release --project Benchmarks -- anomaly-large [rows]</c>: the anomaly detector on a large generated
/// set (default 50 000 normal training rows of 9 features, like the shuttle data: a few tight curved clusters), beside
/// RandomizedPca and the full-covariance Gaussian, with the fit time and the AUROC on fresh normal rows and anomalies.
/// </summary>
public static class LargeAnomaly
{
    public const int Features = 9;

    public static int Command(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50_000;
        var data = Generate(rows, rows / 5, rows / 20, seed: 1);
        Console.WriteLine($"anomaly-large: {rows} normal training rows, {data.Rows - rows} test rows ({data.Rows - rows - rows / 5} anomalies), {Features} features.");
        var train = Enumerable.Range(0, rows).ToArray();
        var test = Enumerable.Range(rows, data.Rows - rows).ToArray();
        foreach (var trainer in SuiteTrainers.All.Where(t => t.Group == SuiteGroup.Anomaly))
        {
            foreach (var (variant, fit) in trainer.Variants)
            {
                var watch = Stopwatch.StartNew();
                var predictor = fit(data, train, 1);
                var seconds = watch.Elapsed.TotalSeconds;
                var auroc = SuiteMetrics.Of(SuiteGroup.Anomaly, data, test, predictor(test));
                Console.WriteLine($"  {trainer.Name,-18} {variant,-16} AUROC {auroc:F4}  fit {seconds:F1} s");
            }
        }
        return 0;
    }

    /// <summary>
    /// Normal rows: four clusters along curves (a coordinate's square or sine drives others), with small noise;
    /// anomalies: the same curves shifted off their clusters, and uniform points over the data's range.
    /// </summary>
    public static SuiteDataSet Generate(int trainRows, int testNormalRows, int anomalies, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        float[] Row(bool anomaly)
        {
            var cluster = random.Next(4);
            var t = Normal();
            var row = new float[Features];
            for (var j = 0; j < Features; j++)
            {
                var curve = (j % 3) switch { 0 => t, 1 => t * t - 1, _ => Math.Sin(2 * t) };
                row[j] = (float)(3 * cluster * (j % 2 == 0 ? 1 : -1) + curve + 0.1 * Normal());
            }
            if (anomaly)
            {
                if (random.Next(2) == 0)
                    for (var j = 0; j < Features; j++)
                        row[j] += (float)(1.5 * Normal());
                else
                    for (var j = 0; j < Features; j++)
                        row[j] = (float)(random.NextDouble() * 24 - 12);
            }
            return row;
        }
        var features = new List<float[]>();
        var labels = new List<string>();
        for (var i = 0; i < trainRows + testNormalRows; i++)
        {
            features.Add(Row(false));
            labels.Add("0");
        }
        for (var i = 0; i < anomalies; i++)
        {
            features.Add(Row(true));
            labels.Add("1");
        }
        return SuiteDataSet.Create("anomaly-large", [.. features], [.. labels]);
    }
}
