using System.Globalization;
using System.IO.Compression;

namespace Invertible.Samples.Shared;

/// <summary>The UCI handwritten digits (1797 rows: 64 pixels in 0..16, then the label), from the shared data folder.</summary>
public sealed record Digits(float[][] Pixels, int[] Labels)
{
    /// <summary>Pixels per row.</summary>
    public const int Features = 64;

    /// <summary>Loads <c>digits.csv.gz</c>, looking in shared/data above the working and the application directories.</summary>
    public static Digits Load(string? path = null)
    {
        path ??= SharedData.Locate("digits.csv.gz");
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        var pixels = new List<float[]>();
        var labels = new List<int>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var cells = line.Split(',');
            if (lineNumber == 1 && !float.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                continue;
            if (cells.Length != Features + 1)
                throw new InvalidDataException($"{path}, line {lineNumber}: expected {Features + 1} values, found {cells.Length}.");
            pixels.Add(cells.Take(Features).Select(c => float.Parse(c, CultureInfo.InvariantCulture)).ToArray());
            labels.Add((int)float.Parse(cells[Features], CultureInfo.InvariantCulture));
        }
        return new Digits([.. pixels], [.. labels]);
    }

    /// <summary>A stratified split: <paramref name="testFraction"/> of each class, chosen with <paramref name="seed"/>.</summary>
    public (Digits Train, Digits Test) StratifiedSplit(double testFraction, int seed)
    {
        var random = new Random(seed);
        var test = new HashSet<int>();
        foreach (var group in Enumerable.Range(0, Labels.Length).GroupBy(i => Labels[i]))
        {
            var members = group.OrderBy(_ => random.Next()).ToArray();
            foreach (var index in members.Take((int)Math.Round(testFraction * members.Length)))
                test.Add(index);
        }
        Digits Take(Func<int, bool> keep)
        {
            var rows = Enumerable.Range(0, Labels.Length).Where(keep).ToArray();
            return new Digits(rows.Select(i => Pixels[i]).ToArray(), rows.Select(i => Labels[i]).ToArray());
        }
        return (Take(i => !test.Contains(i)), Take(test.Contains));
    }
}

/// <summary>The repository's shared data folder (shared/data), found above the working or the application directory.</summary>
public static class SharedData
{
    /// <summary>The path of <paramref name="file"/> (a file or folder relative to shared/data).</summary>
    public static string Locate(string file)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "shared", "data", file);
                if (File.Exists(candidate) || Directory.Exists(candidate))
                    return candidate;
            }
        }
        throw new FileNotFoundException($"Could not find shared/data/{file} above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}.");
    }
}
