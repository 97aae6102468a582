using System.IO.Compression;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Benchmarks.Images;

/// <summary>
/// Fashion-MNIST from Debian's <c>dataset-fashion-mnist</c> (IDX files; installs nothing): 60 000 training and 10 000 test
/// images of 28×28 unsigned-byte pixels with labels 0–9.
/// </summary>
public sealed record FashionMnistData(byte[][] TrainImages, uint[] TrainLabels, byte[][] TestImages, uint[] TestLabels)
{
    /// <summary>Where the Debian package puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Pixels per image.</summary>
    public const int Pixels = 28 * 28;

    /// <summary>Dequantised pixels in [0, 1]: level k becomes (k + u) / 256 with u uniform, drawn from <paramref name="random"/>.</summary>
    public static float[] Dequantised(byte[] image, Random random) => [.. image.Select(b => (b + (float)random.NextDouble()) / 256f)];

    /// <summary>Images as a [count, 784] tensor.</summary>
    public static Tensor Rows(float[][] images) => tensor(images.SelectMany(r => r).ToArray()).view(images.Length, Pixels);

    /// <summary>The four IDX files in <paramref name="directory"/>, or null (with the way to get them on stderr) when absent.</summary>
    public static FashionMnistData? Load(string directory)
    {
        if (!File.Exists(Path.Combine(directory, "train-images-idx3-ubyte.gz")))
        {
            Console.Error.WriteLine($"Fashion-MNIST is not in {directory}. On Debian: sudo apt-get install dataset-fashion-mnist (or pass --data DIR holding the four IDX .gz files).");
            return null;
        }
        var (trainImages, trainLabels) = Part(directory, "train");
        var (testImages, testLabels) = Part(directory, "t10k");
        return new FashionMnistData(trainImages, trainLabels, testImages, testLabels);
    }

    private static (byte[][] Images, uint[] Labels) Part(string directory, string part)
    {
        var images = Idx(Path.Combine(directory, $"{part}-images-idx3-ubyte.gz"), out var imageDims);
        var labels = Idx(Path.Combine(directory, $"{part}-labels-idx1-ubyte.gz"), out var labelDims);
        if (imageDims.Length != 3 || imageDims[1] != 28 || imageDims[2] != 28 || labelDims[0] != imageDims[0])
            throw new InvalidDataException($"Unexpected IDX shapes in {directory}: images [{string.Join(", ", imageDims)}], labels [{string.Join(", ", labelDims)}].");
        return ([.. Enumerable.Range(0, imageDims[0]).Select(i => images.AsSpan(i * Pixels, Pixels).ToArray())], [.. labels.Select(b => (uint)b)]);
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

/// <summary>One image as an ML.NET row: its pixels in the feature column.</summary>
public sealed class PixelRow
{
    [VectorType(FashionMnistData.Pixels)]
    public float[] Features { get; set; } = [];
}
