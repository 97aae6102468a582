using TorchSharp;
using System.Diagnostics;
using Invertible.ML.Flows;
using Invertible.ML.Trainers;
using Invertible.Samples.Shared;
using Invertible.Torch.Core;
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

    public static void Run(QuickstartSize size, Plots plots)
    {
        Report.Heading($"1. An ML.NET pipeline with an invertible-ResNet flow (8-gaussians, {size.ToyRows:N0} training rows)");
        var context = new MLContext(seed: 1);
        var trainPoints = ToyDensities.EightGaussians(size.ToyRows, new TorchSharp.torch.Generator(1));
        var testPoints = ToyDensities.EightGaussians(size.ToyRows / 4, new TorchSharp.torch.Generator(2));
        var (train, test) = (context.Data.LoadFromEnumerable(Rows(trainPoints)), context.Data.LoadFromEnumerable(Rows(testPoints)));

        var watch = Stopwatch.StartNew();
        var options = new InvertibleResNetOptions { Epochs = size.FlowEpochs };
        var model = ProgressBar.Fit($"fitting the flow ({options.Epochs} epochs at most)", options.Epochs, callback => options.ProgressCallback = callback,
            () => context.Transforms.InvertibleResNet(options).Fit(train));
        var scored = model.Transform(test);
        var logLikelihood = scored.GetColumn<float>("LogLikelihood").ToArray();
        var exact = ToyDensities.EightGaussiansLogProb(testPoints.to(ScalarType.Float64)).mean().ToDouble();
        var gaussian = new GaussianBaseline(trainPoints).LogProb(testPoints).mean().ToDouble();
        Console.WriteLine($"  fitted in {watch.Elapsed.TotalSeconds:F1} s (best epoch {model.TrainingReport!.BestEpoch}; 0 = the Gaussian start)");
        Console.WriteLine($"  test NLL {-logLikelihood.Average():F3} nats per row; exact NLL of the generating mixture {-exact:F3}; full-covariance Gaussian {-gaussian:F3}");

        var reconstructed = model.Inverse().Transform(scored);
        var error = scored.GetColumn<float[]>("Features").Zip(reconstructed.GetColumn<float[]>("Reconstructed"), (x, y) => x.Zip(y, (a, b) => Math.Abs(a - b)).Max()).Max();
        Console.WriteLine($"  Inverse: latent → data, max |x − F⁻¹(F(x))| over {logLikelihood.Length:N0} rows = {Report.Sci(error)}; every row converged: {reconstructed.GetColumn<bool>("ReconstructedConverged").All(c => c)}");
        var samples = model.Sample(size.ToyRows / 4, seed: 3).GetColumn<float[]>("Features").ToArray();
        Console.WriteLine($"  Sample: {string.Join("  ", samples.Take(4).Select(r => $"({r[0]:F2}, {r[1]:F2})"))} …");

        var path = Path.Combine(Path.GetTempPath(), $"invertible-quickstart-{Environment.ProcessId}.zip");
        context.Model.Save(model, train.Schema, path);
        var plain = context.Model.Load(path, out _).Transform(test).GetColumn<float[]>("LogLikelihood").Select(v => v[0]).ToArray();
        var restored = context.Model.LoadInvertible(path, out _).Transform(test).GetColumn<float>("LogLikelihood").ToArray();
        Console.WriteLine($"  Save → Load (ONNX Runtime scoring): max |diff| {Report.Sci(plain.Zip(logLikelihood, (a, b) => Math.Abs(a - b)).Max())}; " +
            $"LoadInvertible (full transformer): identical = {restored.SequenceEqual(logLikelihood)}");
        File.Delete(path);

        var (forwardPath, inversePath) = (Path.Combine(plots.Folder, "flow.forward.onnx"), Path.Combine(plots.Folder, "flow.inverse.onnx"));
        model.ExportOnnx(forwardPath, inversePath);
        var (onnxLogLikelihood, onnxLatent) = OnnxCheck.Forward(forwardPath, testPoints);
        var onnxInverse = OnnxCheck.Inverse(inversePath, onnxLatent);
        Console.WriteLine($"  ExportOnnx → ONNX Runtime: log-likelihood max |diff| {Report.Sci(onnxLogLikelihood.Zip(logLikelihood, (a, b) => Math.Abs(a - b)).Max())}, " +
            $"inverse max |x − x̂| {Report.Sci(onnxInverse.Zip(testPoints.data<float>().ToArray(), (a, b) => Math.Abs(a - b)).Max())}");

        plots.DataAndSamples(Rows(testPoints).Select(r => r.Features).ToArray(), samples);
        plots.Latent(scored.GetColumn<float[]>("Latent").ToArray());
        plots.Density(Density(context, model, 4, size.GridSize), 4);

        Report.Heading("2. A deep-equilibrium classifier in an ML.NET pipeline (UCI digits, stratified 80/20), and generated digits");
        var (digitsTrain, digitsTest) = Digits.Load().StratifiedSplit(0.2, seed: 0);
        IDataView View(Digits d) => context.Data.LoadFromEnumerable(d.Pixels.Select((p, i) => new Digit { Features = p.Select(v => v / 16).ToArray(), Label = d.Labels[i].ToString() }));
        watch.Restart();
        var classifier = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.MulticlassClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { Epochs = size.ClassifierEpochs, StateFeatures = size.ClassifierState }))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel"))
            .Fit(View(digitsTrain));
        var metrics = context.MulticlassClassification.Evaluate(classifier.Transform(View(digitsTest)));
        var baseline = context.Transforms.Conversion.MapValueToKey("Label").Append(context.MulticlassClassification.Trainers.LbfgsMaximumEntropy()).Fit(View(digitsTrain));
        var baselineMetrics = context.MulticlassClassification.Evaluate(baseline.Transform(View(digitsTest)));
        Console.WriteLine($"  accuracy {metrics.MicroAccuracy:P1} (ML.NET's LbfgsMaximumEntropy on the same split: {baselineMetrics.MicroAccuracy:P1}); fitted in {watch.Elapsed.TotalSeconds:F1} s");
        using var engine = context.Model.CreatePredictionEngine<Digit, Prediction>(classifier);
        var first = new Digit { Features = digitsTest.Pixels[0].Select(v => v / 16).ToArray() };
        Console.WriteLine($"  prediction engine, first test row: {engine.Predict(first).PredictedDigit} (true label {digitsTest.Labels[0]})");

        // The digits as 1×8×8 images: the convolutional multi-scale flow, on pixels dequantised into [0, 1] (level k → (k + u) / 17).
        var noise = new Random(0);
        var pixels = context.Data.LoadFromEnumerable(digitsTrain.Pixels.Select(p => new Digit { Features = [.. p.Select(v => (v + (float)noise.NextDouble()) / 17)] }));
        var digitOptions = new InvertibleResNetOptions { Epochs = size.DigitFlowEpochs, Image = new ImageShape(1, 8, 8) };
        var digitFlow = ProgressBar.Fit($"fitting a convolutional flow to the digits as 1×8×8 images ({digitOptions.Epochs} epochs at most)", digitOptions.Epochs,
            callback => digitOptions.ProgressCallback = callback, () => context.Transforms.InvertibleResNet(digitOptions).Fit(pixels));
        // Level k was dequantised into [k, k + 1) / 17: floor(17 x) is the level a sample stands for.
        var generated = digitFlow.Sample(240, seed: 5).GetColumn<float[]>("Features").Select(r => r.Select(v => Math.Clamp(MathF.Floor(v * 17), 0, 16)).ToArray()).ToArray();
        // How readable the samples are, measured: the share that ML.NET's linear classifier above reads with at least 90 %
        // confidence (the equilibrium network is confident on noise too: 41 % of the samples of a flow trained 1 epoch).
        double Readable(IEnumerable<float[]> images)
            => baseline.Transform(context.Data.LoadFromEnumerable(images.Select(p => new Digit { Features = [.. p.Select(v => v / 16)], Label = "0" })))
                .GetColumn<float[]>("Score").Average(score => score.Max() >= 0.9f ? 1.0 : 0.0);
        Console.WriteLine($"  flow.Sample: {generated.Length} generated digits (best epoch {digitFlow.TrainingReport!.BestEpoch} of {digitFlow.TrainingReport.History.Count}); " +
            $"LbfgsMaximumEntropy reads {Readable(generated):P0} of them with ≥ 90 % confidence, {Readable(digitsTest.Pixels):P0} of the test digits; " +
            "digits.png shows 24 below 16 training digits");
        plots.Digits([.. digitsTrain.Pixels.Take(16)], generated[..24], columns: 8);
    }

    /// <summary>The flow's density exp(log p) on a size × size grid over [−extent, extent]², row 0 at the top.</summary>
    private static double[,] Density(MLContext context, InvertibleResNetTransformer model, double extent, int size)
    {
        var step = 2 * extent / size;
        var grid = new List<Point>(size * size);
        for (var i = 0; i < size; i++)
            for (var j = 0; j < size; j++)
                grid.Add(new Point { Features = [(float)(-extent + (j + 0.5) * step), (float)(extent - (i + 0.5) * step)] });
        var values = model.Transform(context.Data.LoadFromEnumerable(grid)).GetColumn<float>("LogLikelihood").ToArray();
        var density = new double[size, size];
        for (var k = 0; k < values.Length; k++)
            density[k / size, k % size] = Math.Exp(values[k]);
        return density;
    }

    private static List<Point> Rows(Tensor points)
    {
        var values = points.data<float>().ToArray();
        return Enumerable.Range(0, (int)points.shape[0]).Select(i => new Point { Features = values[(2 * i)..(2 * i + 2)] }).ToList();
    }
}
