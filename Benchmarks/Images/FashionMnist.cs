using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Invertible.ML.Trainers;
using Invertible.Torch.Core;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.Benchmarks.Images;

/// <summary>
/// <c>dotnet run -c Release --project Benchmarks -- fashion [--train-rows N] [--epochs E] [--output DIR]</c>: test accuracy
/// on Fashion-MNIST (60 000 training and 10 000 test images, 28×28) of the convolutional i-ResNet classifier beside
/// ML.NET's LightGbm and SdcaMaximumEntropy on the pixels, with fit times. Reads Debian's <c>dataset-fashion-mnist</c>
/// (installs nothing). Each model's result is appended to DIR/fashion.tsv as it finishes, and a rerun skips the models
/// already there, so a long run resumes.
/// </summary>
public static class FashionMnist
{
    private const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    private static readonly ImageShape Shape = new(1, 28, 28);

    private sealed class Row
    {
        [VectorType(28 * 28)]
        public float[] Features { get; set; } = [];

        public uint Label { get; set; }
    }

    public static int Command(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var directory = Option("--data") ?? DefaultDirectory;
        if (!File.Exists(Path.Combine(directory, "train-images-idx3-ubyte.gz")))
        {
            Console.Error.WriteLine($"Fashion-MNIST is not in {directory}. On Debian: sudo apt-get install dataset-fashion-mnist (or pass --data DIR holding the four IDX .gz files).");
            return 2;
        }
        var trainRows = int.Parse(Option("--train-rows") ?? "60000", CultureInfo.InvariantCulture);
        var epochs = int.Parse(Option("--epochs") ?? "10", CultureInfo.InvariantCulture);
        var output = Option("--output") ?? "fashion-results";
        Directory.CreateDirectory(output);
        var results = Path.Combine(output, "fashion.tsv");
        var done = File.Exists(results) ? File.ReadAllLines(results).Select(l => l.Split('\t')[0]).ToHashSet() : [];

        var context = new MLContext(1);
        var train = context.Data.LoadFromEnumerable(Read(directory, "train").Take(trainRows).ToList());
        var test = context.Data.LoadFromEnumerable(Read(directory, "t10k").ToList());
        Console.WriteLine($"Fashion-MNIST: {trainRows} training images, 10 000 test images, {Shape} pixels in [0, 1]; {Environment.ProcessorCount} cores.");
        var models = new (string Name, Func<IEstimator<ITransformer>> Trainer)[]
        {
            ($"InvertibleResNet (conv, {epochs} epochs)", () => context.MulticlassClassification.Trainers.InvertibleResNet(new InvertibleResNetTrainerOptions
            {
                Image = Shape, Epochs = epochs, Members = 1,
                ProgressCallback = p => Console.WriteLine($"    {p}"),
            })),
            ("LightGbm", () => context.MulticlassClassification.Trainers.LightGbm()),
            ("SdcaMaximumEntropy", () => context.MulticlassClassification.Trainers.SdcaMaximumEntropy()),
        };
        foreach (var (name, trainer) in models)
        {
            if (done.Contains(name))
            {
                Console.WriteLine($"  {name}: in {results} already, skipped");
                continue;
            }
            var watch = Stopwatch.StartNew();
            var model = context.Transforms.Conversion.MapValueToKey("Label").Append(trainer()).Fit(train);
            var seconds = watch.Elapsed.TotalSeconds;
            var accuracy = context.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;
            Console.WriteLine($"  {name}: test accuracy {accuracy:F4}, fit {seconds:F0} s");
            File.AppendAllLines(results, [string.Create(CultureInfo.InvariantCulture, $"{name}\t{trainRows}\t{accuracy:F4}\t{seconds:F1}\t{DateTime.UtcNow:yyyy-MM-dd}")]);
        }
        Console.WriteLine();
        Console.WriteLine("| model | training images | test accuracy | fit (s) | date |");
        Console.WriteLine("| --- | ---: | ---: | ---: | --- |");
        foreach (var line in File.ReadAllLines(results))
            Console.WriteLine("| " + string.Join(" | ", line.Split('\t')) + " |");
        return 0;
    }

    /// <summary>The images and labels of one IDX pair ("train" or "t10k"), pixels scaled to [0, 1].</summary>
    private static IEnumerable<Row> Read(string directory, string part)
    {
        var images = Idx(Path.Combine(directory, $"{part}-images-idx3-ubyte.gz"), out var imageDims);
        var labels = Idx(Path.Combine(directory, $"{part}-labels-idx1-ubyte.gz"), out var labelDims);
        if (imageDims.Length != 3 || imageDims[1] != 28 || imageDims[2] != 28 || labelDims[0] != imageDims[0])
            throw new InvalidDataException($"Unexpected IDX shapes in {directory}: images [{string.Join(", ", imageDims)}], labels [{string.Join(", ", labelDims)}].");
        const int pixels = 28 * 28;
        for (var i = 0; i < imageDims[0]; i++)
            yield return new Row { Features = [.. images.AsSpan(i * pixels, pixels).ToArray().Select(b => b / 255f)], Label = labels[i] };
    }

    // IDX: magic (0, 0, type 0x08 = unsigned byte, rank), big-endian int32 dimensions, then the bytes.
    private static byte[] Idx(string path, out int[] dimensions)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        if (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08)
            throw new InvalidDataException($"{path} is not an unsigned-byte IDX file.");
        var rank = bytes[3];
        dimensions = new int[rank];
        for (var d = 0; d < rank; d++)
            dimensions[d] = (bytes[4 + 4 * d] << 24) | (bytes[5 + 4 * d] << 16) | (bytes[6 + 4 * d] << 8) | bytes[7 + 4 * d];
        return bytes[(4 + 4 * rank)..];
    }
}
