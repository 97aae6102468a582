using System.Diagnostics;
using System.Globalization;
using Invertible.ML.Trainers;
using Invertible.Torch.Core;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.Benchmarks.Images;

/// <summary>
/// <c>dotnet run -c Release --project Benchmarks -- fashion [--task classify|density|anomaly|all] [--train-rows N]
/// [--epochs E] [--minutes M] [--image-shift S] [--models PREFIX,…] [--flow-rows N] [--flow-epochs E] [--flow-minutes M] [--anomaly-rows N] [--anomaly-epochs E] [--output DIR] [--data DIR]</c>
/// on Fashion-MNIST (60 000 training and 10 000 test images, 28×28). classify: test accuracy of the convolutional i-ResNet
/// classifier and the convolutional monotone equilibrium network (--models picks some by name prefix; --minutes gives
/// their training epochs a time budget, <see cref="Invertible.ML.TrainingOptions.TimeBudget"/>; --image-shift sets the i-ResNet's
/// <see cref="InvertibleResNetTrainerOptions.ImageShift"/>) beside ML.NET's LightGbm and SdcaMaximumEntropy on the pixels; density: bits per dimension of the
/// convolutional flow on dequantised pixels beside a full-covariance Gaussian's (<see cref="FashionDensity"/>; --flow-minutes
/// gives its epochs a time budget); anomaly:
/// one-class AUROC averaged over the classes (<see cref="FashionAnomaly"/>). Fit times throughout. Each model's result is appended to
/// DIR/fashion.tsv as it finishes, and a rerun skips the models already there, so a long run resumes.
/// </summary>
public static class FashionMnist
{
    internal static readonly ImageShape Shape = new(1, 28, 28);

    private sealed class Row
    {
        [VectorType(FashionMnistData.Pixels)]
        public float[] Features { get; set; } = [];

        public uint Label { get; set; }
    }

    public static int Command(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        int Number(string name, int fallback) => int.Parse(Option(name) ?? fallback.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        TimeSpan? Minutes(string name) => Option(name) is { } minutes ? TimeSpan.FromMinutes(double.Parse(minutes, CultureInfo.InvariantCulture)) : null;
        if (FashionMnistData.Load(Option("--data") ?? FashionMnistData.DefaultDirectory) is not { } data)
            return 2;
        var task = Option("--task") ?? "all";
        var output = Option("--output") ?? "fashion-results";
        Directory.CreateDirectory(output);
        var results = new FashionResults(output);
        Console.WriteLine($"Fashion-MNIST: {data.TrainImages.Length} training images, {data.TestImages.Length} test images, {Shape}; {Environment.ProcessorCount} cores.");
        if (task is "classify" or "all")
            Classify(data, Number("--train-rows", 60000), Number("--epochs", 10), Minutes("--minutes"),
                Option("--models")?.Split(','), Option("--image-shift") is { } shift ? int.Parse(shift, CultureInfo.InvariantCulture) : null, results);
        if (task is "density" or "all")
            FashionDensity.Run(data, Number("--flow-rows", 60000), Number("--flow-epochs", 20), Minutes("--flow-minutes"), results, output);
        if (task is "anomaly" or "all")
            FashionAnomaly.Run(data, Number("--anomaly-rows", 2000), Number("--anomaly-epochs", 10), results, output);
        results.Print();
        return 0;
    }

    private static void Classify(FashionMnistData data, int trainRows, int epochs, TimeSpan? budget, string[]? only, int? imageShift, FashionResults results)
    {
        var limit = budget is { } b ? string.Create(CultureInfo.InvariantCulture, $"at most {epochs} epochs in {b.TotalMinutes:G3} min") : $"{epochs} epochs";
        var context = new MLContext(1);
        IDataView View(byte[][] images, uint[] labels, int count) => context.Data.LoadFromEnumerable(images.Take(count)
            .Select((image, i) => new Row { Features = [.. image.Select(b => b / 255f)], Label = labels[i] }).ToList());
        var train = View(data.TrainImages, data.TrainLabels, trainRows);
        var test = View(data.TestImages, data.TestLabels, data.TestImages.Length);
        var models = new (string Name, Func<IEstimator<ITransformer>> Trainer)[]
        {
            ($"InvertibleResNet (conv{(imageShift is { } s ? $", shift {s}" : "")}, {limit})", () => context.MulticlassClassification.Trainers.InvertibleResNet(new InvertibleResNetTrainerOptions
            {
                Image = Shape, Epochs = epochs, Members = 1, TimeBudget = budget, ImageShift = imageShift,
                ProgressCallback = p => Console.WriteLine($"    {p}"),
            })),
            ($"DeepEquilibrium (monotone conv, {limit})", () => context.MulticlassClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions
            {
                Image = Shape, Epochs = epochs, Members = 1, TimeBudget = budget,
                ProgressCallback = p => Console.WriteLine($"    {p}"),
            })),
            ("LightGbm", () => context.MulticlassClassification.Trainers.LightGbm()),
            ("SdcaMaximumEntropy", () => context.MulticlassClassification.Trainers.SdcaMaximumEntropy()),
        };
        foreach (var (name, trainer) in models.Where(m => only is null || only.Any(prefix => m.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))))
        {
            if (results.Has(name))
            {
                Console.WriteLine($"  {name}: done already, skipped");
                continue;
            }
            var watch = Stopwatch.StartNew();
            var model = context.Transforms.Conversion.MapValueToKey("Label").Append(trainer()).Fit(train);
            var seconds = watch.Elapsed.TotalSeconds;
            results.Add(name, trainRows, "test accuracy", context.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy, seconds);
        }
    }
}
