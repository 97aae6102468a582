using System.Diagnostics;
using Invertible.ML.Flows;
using Invertible.ML.Trainers;
using Invertible.Samples.Shared;
using Invertible.Torch.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Samples.Quickstart;

/// <summary>The product through its ML.NET API: a flow transform that maps both ways, and an equilibrium classifier.</summary>
internal static class MlNetSection
{
    private sealed class Point
    {
        [VectorType(2)]
        public float[] Features { get; set; } = [];
    }

    private sealed class Digit
    {
        [VectorType(Digits.Features)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    private sealed class Prediction
    {
        public string PredictedDigit { get; set; } = "";
    }

    public static void Run()
    {
        Report.Heading("1. An ML.NET pipeline with an invertible-ResNet flow (two-moons, 4 000 rows)");
        var context = new MLContext(seed: 1);
        IDataView Moons(int rows, ulong seed) => context.Data.LoadFromEnumerable(Rows(ToyDensities.TwoMoons(rows, new TorchSharp.torch.Generator(seed))));
        var (train, test) = (Moons(4000, 1), Moons(1000, 2));

        var watch = Stopwatch.StartNew();
        var pipeline = context.Transforms.NormalizeMeanVariance("Features")
            .Append(context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 15, ProgressCallback = p => Console.WriteLine($"  {p}") }));
        var model = pipeline.Fit(train);
        var flow = model.LastTransformer;
        var scored = model.Transform(test);
        var logLikelihood = scored.GetColumn<float>("LogLikelihood").Average();
        Console.WriteLine($"  fitted in {watch.Elapsed.TotalSeconds:F1} s; test log-likelihood {logLikelihood:F3} nats per row (of the standardised data), best epoch {flow.TrainingReport!.BestEpoch} (0 = the Gaussian start)");

        var reconstructed = flow.Inverse().Transform(scored);
        var error = scored.GetColumn<float[]>("Features").Zip(reconstructed.GetColumn<float[]>("Reconstructed"), (x, y) => x.Zip(y, (a, b) => Math.Abs(a - b)).Max()).Max();
        Console.WriteLine($"  Inverse: latent → data, max |x − F⁻¹(F(x))| over 1 000 rows = {Report.Sci(error)}; every row converged: {reconstructed.GetColumn<bool>("ReconstructedConverged").All(c => c)}");
        var samples = flow.Sample(5);
        Console.WriteLine($"  Sample: {string.Join("  ", samples.GetColumn<float[]>("Features").Select(r => $"({r[0]:F2}, {r[1]:F2})"))}");

        var path = Path.Combine(Path.GetTempPath(), "invertible-quickstart.zip");
        context.Model.Save(model, train.Schema, path);
        var plain = context.Model.Load(path, out _).Transform(test).GetColumn<float[]>("LogLikelihood").Select(v => v[0]).ToArray();
        var restored = context.Model.LoadInvertible(path, out _).Transform(test).GetColumn<float>("LogLikelihood").ToArray();
        var expected = scored.GetColumn<float>("LogLikelihood").ToArray();
        Console.WriteLine($"  Save → Load (ONNX Runtime scoring): max |diff| {Report.Sci(plain.Zip(expected, (a, b) => Math.Abs(a - b)).Max())}; " +
            $"LoadInvertible (full transformer): identical = {restored.SequenceEqual(expected)}");
        File.Delete(path);

        Report.Heading("2. A deep-equilibrium classifier in an ML.NET pipeline (UCI digits, stratified 80/20)");
        var (digitsTrain, digitsTest) = Digits.Load().StratifiedSplit(0.2, seed: 0);
        IDataView View(Digits d) => context.Data.LoadFromEnumerable(d.Pixels.Select((p, i) => new Digit { Features = p.Select(v => v / 16).ToArray(), Label = d.Labels[i].ToString() }));
        watch.Restart();
        var classifier = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.MulticlassClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { Epochs = 20 }))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel"))
            .Fit(View(digitsTrain));
        var metrics = context.MulticlassClassification.Evaluate(classifier.Transform(View(digitsTest)));
        var baseline = context.Transforms.Conversion.MapValueToKey("Label").Append(context.MulticlassClassification.Trainers.LbfgsMaximumEntropy()).Fit(View(digitsTrain));
        var baselineMetrics = context.MulticlassClassification.Evaluate(baseline.Transform(View(digitsTest)));
        Console.WriteLine($"  accuracy {metrics.MicroAccuracy:P1} (ML.NET's LbfgsMaximumEntropy on the same split: {baselineMetrics.MicroAccuracy:P1}); fitted in {watch.Elapsed.TotalSeconds:F1} s");
        using var engine = context.Model.CreatePredictionEngine<Digit, Prediction>(classifier);
        var first = new Digit { Features = digitsTest.Pixels[0].Select(v => v / 16).ToArray() };
        Console.WriteLine($"  prediction engine, first test row: {engine.Predict(first).PredictedDigit} (true label {digitsTest.Labels[0]})");
    }

    private static List<Point> Rows(Tensor points)
    {
        var values = points.data<float>().ToArray();
        return Enumerable.Range(0, (int)points.shape[0]).Select(i => new Point { Features = values[(2 * i)..(2 * i + 2)] }).ToList();
    }
}
