using System.Diagnostics;
using System.Globalization;
using Invertible.ML.Flows;
using Invertible.Samples.Shared;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.LogDet;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Benchmarks.Images;

/// <summary>
/// Bits per dimension on the 10 000 test images of Fashion-MNIST, pixels dequantised as x = (k + u) / 256 with u uniform
/// (seeded), so bits per dimension of the 8-bit images = −log p(x) / (784 ln 2) + 8: a full-covariance Gaussian fitted to
/// all training images, and the convolutional flow (<see cref="InvertibleResNetOptions.Image"/>) with its defaults on the
/// first N training images. The flow's held-out curve (bits per dimension against minutes) goes to
/// DIR/fashion-flow-curve.tsv.
/// </summary>
public static class FashionDensity
{
    private const double BitsPerPixelLevel = 8; // log₂ 256: the dequantisation bin's width 1/256

    public static void Run(FashionMnistData data, int rows, int epochs, TimeSpan? budget, FashionResults results, string output)
    {
        var random = new Random(1);
        var train = data.TrainImages.Select(image => FashionMnistData.Dequantised(image, random)).ToArray();
        var test = data.TestImages.Select(image => FashionMnistData.Dequantised(image, random)).ToArray();

        const string gaussian = "Gaussian (full covariance)";
        if (!results.Has(gaussian))
        {
            var watch = Stopwatch.StartNew();
            var bits = GaussianBits(train, test);
            results.Add(gaussian, train.Length, "test bits/dim", bits, watch.Elapsed.TotalSeconds);
        }

        var name = budget is { } minutes ? $"InvertibleResNet flow (conv, {minutes.TotalMinutes:G4}-min budget, at most {epochs} epochs)" : $"InvertibleResNet flow (conv, {epochs} epochs)";
        var context = new MLContext(1);
        var saved = Path.Combine(output, "fashion-flow.zip");
        if (results.Has(name))
        {
            Console.WriteLine($"  {name}: done already, skipped");
            if (File.Exists(saved) && !File.Exists(Path.Combine(output, GridFile)))
            {
                var loaded = context.Model.LoadInvertible(saved, out _);
                var restored = loaded as InvertibleResNetTransformer ?? ((TransformerChain<ITransformer>)loaded).OfType<InvertibleResNetTransformer>().Single();
                WriteGrid(context, restored, test, output);
                EstimatorSpread(restored.Model, test);
            }
            return;
        }
        var curve = Path.Combine(output, "fashion-flow-curve.tsv");
        File.WriteAllLines(curve, ["epoch\tminutes\tvalidation bits/dim"]);
        var options = new InvertibleResNetOptions
        {
            Image = FashionMnist.Shape, Epochs = epochs, TimeBudget = budget,
            ProgressCallback = p =>
            {
                var bits = p.ValidationLoss is { } nll ? nll / (FashionMnistData.Pixels * Math.Log(2)) + BitsPerPixelLevel : double.NaN;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    epoch {p.Epoch}: validation {bits:F4} bits/dim, {p.Elapsed.TotalMinutes:F1} min"));
                File.AppendAllLines(curve, [string.Create(CultureInfo.InvariantCulture, $"{p.Epoch}\t{p.Elapsed.TotalMinutes:F2}\t{bits:F4}")]);
            },
        };
        var trainView = context.Data.LoadFromEnumerable(train.Take(rows).Select(x => new PixelRow { Features = x }).ToList());
        var stopwatch = Stopwatch.StartNew();
        var flow = context.Transforms.InvertibleResNet(options).Fit(trainView);
        var seconds = stopwatch.Elapsed.TotalSeconds;
        var scored = flow.Transform(context.Data.LoadFromEnumerable(test.Select(x => new PixelRow { Features = x }).ToList()));
        var testBits = scored.GetColumn<float>(flow.BitsPerDimensionColumnName).Average(b => (double)b) + BitsPerPixelLevel;
        results.Add(name, Math.Min(rows, train.Length), "test bits/dim", testBits, seconds);
        context.Model.Save(flow, trainView.Schema, saved);
        WriteGrid(context, flow, test, output);
        EstimatorSpread(flow.Model, test);
    }

    /// <summary>
    /// The error of the evaluation log-determinant (the fixed-probe series) on 500 test images: the spread of their mean
    /// bits/dim over five probe seeds, and the shift when the series runs 20 terms instead of 10 (its truncation).
    /// </summary>
    private static void EstimatorSpread(InvertibleResNetFlow flow, float[][] test)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = FashionMnistData.Rows(test[..500]);
        var blocks = flow.modules().OfType<ResidualBlockBase>().ToArray();
        var standard = blocks[0].EvaluationLogDet;
        double MeanBits(LogDetOptions options)
        {
            foreach (var block in blocks)
                block.EvaluationLogDet = options;
            return StandardNormal.BitsPerDimension(flow.LogProb(x), FashionMnistData.Pixels).mean().to(ScalarType.Float64).item<double>();
        }
        var seeds = Enumerable.Range(0, 5).Select(seed => MeanBits(new LogDetOptions
        {
            Method = standard.Method, Terms = standard.Terms, Probes = standard.Probes, Probe = standard.Probe, ProbeSeed = seed,
        })).ToArray();
        var longer = MeanBits(new LogDetOptions { Method = standard.Method, Terms = 2 * standard.Terms, Probes = standard.Probes, Probe = standard.Probe });
        foreach (var block in blocks)
            block.EvaluationLogDet = standard;
        var spread = Math.Sqrt(seeds.Select(b => (b - seeds.Average()) * (b - seeds.Average())).Sum() / (seeds.Length - 1));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  evaluation log-det ({standard.Method}, {standard.Terms} terms, {standard.Probes} probes) on 500 test images: mean bits/dim spread over 5 probe seeds {spread:G3}; 20 terms shift it by {longer - seeds[0]:G3}"));
    }

    private const string GridFile = "fashion-flow-grid.png";

    // Row 1: test images; row 2: their reconstructions F⁻¹(F(x)); rows 3–4: samples x = F⁻¹(z), z ~ N(0, I).
    private static void WriteGrid(MLContext context, InvertibleResNetTransformer flow, float[][] test, string output)
    {
        const int columns = 12;
        var originals = test.Take(columns).ToArray();
        var latent = flow.Transform(context.Data.LoadFromEnumerable(originals.Select(x => new PixelRow { Features = x }).ToList()));
        var reconstructed = flow.Inverse().Transform(latent).GetColumn<float[]>("Reconstructed").ToArray();
        var samples = flow.Sample(2 * columns, seed: 1).GetColumn<float[]>(flow.InputColumnName).ToArray();
        ImageGrid.Write(Path.Combine(output, GridFile), [originals, reconstructed, samples[..columns], samples[columns..]], 28);
        var error = originals.Zip(reconstructed).Max(p => p.First.Zip(p.Second).Max(v => Math.Abs(v.First - v.Second)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  grid of test images, reconstructions (max |error| {error:G3}) and samples: {Path.Combine(output, GridFile)}"));
    }

    private static double GaussianBits(float[][] train, float[][] test)
    {
        using var _ = NewDisposeScope();
        var logLikelihood = new GaussianBaseline(FashionMnistData.Rows(train)).LogProb(FashionMnistData.Rows(test));
        return StandardNormal.BitsPerDimension(logLikelihood, FashionMnistData.Pixels).mean().item<double>() + BitsPerPixelLevel;
    }
}
