using System.Globalization;

namespace Invertible.Benchmarks.Images;

/// <summary>The run's results file (model, training images, metric, value, fit seconds, date), appended as each model
/// finishes so that a rerun skips what is there.</summary>
public sealed class FashionResults(string directory)
{
    private readonly string path = Path.Combine(directory, "fashion.tsv");

    /// <summary>Whether <paramref name="model"/> has a result already.</summary>
    public bool Has(string model) => File.Exists(path) && File.ReadAllLines(path).Any(l => l.Split('\t')[0] == model);

    /// <summary>Appends one result and prints it.</summary>
    public void Add(string model, int trainImages, string metric, double value, double seconds)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {model}: {metric} {value:F4}, fit {seconds:F0} s"));
        File.AppendAllLines(path, [string.Create(CultureInfo.InvariantCulture, $"{model}\t{trainImages}\t{metric}\t{value:F4}\t{seconds:F1}\t{DateTime.UtcNow:yyyy-MM-dd}")]);
    }

    /// <summary>The results as a markdown table.</summary>
    public void Print()
    {
        Console.WriteLine();
        Console.WriteLine("| model | training images | metric | value | fit (s) | date |");
        Console.WriteLine("| --- | ---: | --- | ---: | ---: | --- |");
        foreach (var line in File.Exists(path) ? File.ReadAllLines(path) : [])
            Console.WriteLine("| " + string.Join(" | ", line.Split('\t')) + " |");
    }
}
