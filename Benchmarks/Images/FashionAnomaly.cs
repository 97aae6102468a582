using System.Diagnostics;
using System.Globalization;
using Invertible.Benchmarks.Tabular;
using Invertible.ML.Trainers;
using Invertible.Samples.Shared;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Benchmarks.Images;

/// <summary>
/// One-class anomaly detection on Fashion-MNIST: for each class, train on N of its training images (dequantised as in
/// <see cref="FashionDensity"/>), score the 10 000 test images, and measure the AUROC of the other classes against it;
/// the mean over the classes is the result. Ours: the anomaly detector with <c>Image</c> (its score −log p(x)); peers:
/// ML.NET's RandomizedPca (rank 20) and a full-covariance Gaussian (−log N(x; μ, Σ + 10⁻³ · mean variance · I)).
/// Per-class results go to DIR/fashion-anomaly.tsv, so a rerun resumes per model and class.
/// </summary>
public static class FashionAnomaly
{
    public static void Run(FashionMnistData data, int rowsPerClass, int epochs, FashionResults results, string output)
    {
        var random = new Random(2);
        float[] Dequantised(byte[] image) => FashionMnistData.Dequantised(image, random);
        var test = data.TestImages.Select(Dequantised).ToArray();
        var perClass = Path.Combine(output, "fashion-anomaly.tsv");
        var done = File.Exists(perClass) ? File.ReadAllLines(perClass).Select(l => l.Split('\t')).ToDictionary(c => (c[0], int.Parse(c[1], CultureInfo.InvariantCulture)), c => (Auroc: double.Parse(c[2], CultureInfo.InvariantCulture), Seconds: double.Parse(c[3], CultureInfo.InvariantCulture))) : [];
        var models = new (string Name, Func<float[][], Func<float[][], double[]>> Fit)[]
        {
            ($"one-class: InvertibleResNet anomaly (conv, {epochs} epochs)", train => Ours(train, epochs)),
            ("one-class: RandomizedPca (rank 20)", RandomizedPca),
            ("one-class: Gaussian (full covariance)", Gaussian),
        };
        foreach (var (name, fit) in models)
        {
            if (results.Has(name))
            {
                Console.WriteLine($"  {name}: done already, skipped");
                continue;
            }
            var aurocs = new List<double>();
            var seconds = 0.0;
            for (var label = 0; label < 10; label++)
            {
                if (!done.TryGetValue((name, label), out var result))
                {
                    var train = data.TrainImages.Where((_, i) => data.TrainLabels[i] == label).Take(rowsPerClass).Select(Dequantised).ToArray();
                    var watch = Stopwatch.StartNew();
                    var score = fit(train);
                    var fitSeconds = watch.Elapsed.TotalSeconds;
                    var auroc = SuiteMetrics.Auroc(score(test), [.. data.TestLabels.Select(l => l != label)]);
                    result = (auroc, fitSeconds);
                    File.AppendAllLines(perClass, [string.Create(CultureInfo.InvariantCulture, $"{name}\t{label}\t{auroc:F4}\t{fitSeconds:F1}")]);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {name}, class {label} normal: AUROC {auroc:F4}, fit {fitSeconds:F0} s"));
                }
                aurocs.Add(result.Auroc);
                seconds += result.Seconds;
            }
            results.Add(name, rowsPerClass, "one-class AUROC, mean of 10", aurocs.Average(), seconds / 10);
        }
    }

    private static IDataView View(MLContext context, float[][] images) => context.Data.LoadFromEnumerable(images.Select(x => new PixelRow { Features = x }).ToList());

    private static Func<float[][], double[]> Ours(float[][] train, int epochs)
    {
        var context = new MLContext(1);
        var detector = context.AnomalyDetection.Trainers.InvertibleResNet(new InvertibleResNetAnomalyOptions { Image = FashionMnist.Shape, Epochs = epochs }).Fit(View(context, train));
        if (detector.TrainingReport is { } report)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    best epoch {report.BestEpoch} of {report.History.Count} (0: the Gaussian start); validation NLL {report.BestValidationLoss:F1}; per epoch (training/validation) {string.Join(" ", report.History.Select(h => $"{h.TrainLoss:F1}/{h.ValidationLoss:F1}"))}"));
        return test => [.. detector.Transform(View(context, test)).GetColumn<float>("Score").Select(s => (double)s)];
    }

    private static Func<float[][], double[]> RandomizedPca(float[][] train)
    {
        var context = new MLContext(1);
        var model = context.AnomalyDetection.Trainers.RandomizedPca(rank: 20).Fit(View(context, train));
        return test => [.. model.Transform(View(context, test)).GetColumn<float>("Score").Select(s => (double)s)];
    }

    private static Func<float[][], double[]> Gaussian(float[][] train)
    {
        var gaussian = new GaussianBaseline(FashionMnistData.Rows(train), regularization: 1e-3);
        return test => gaussian.LogProb(FashionMnistData.Rows(test)).neg().data<double>().ToArray();
    }
}
