using System.Globalization;
using Invertible.Samples.Shared;

namespace Invertible.Benchmarks.Tabular;

/// <summary>What a data set of the suite is for.</summary>
public enum SuiteTask
{
    /// <summary>Predict a class (accuracy).</summary>
    Classification,
    /// <summary>Predict a number (R²).</summary>
    Regression,
    /// <summary>Score held-out normal rows and anomalies, trained on normal rows only (AUROC).</summary>
    Anomaly,
}

/// <summary>
/// One data set of the tabular suite: feature rows and the label column as text, with the task and the split rule of
/// shared/docs/BENCHMARKS.md.
/// </summary>
public sealed class SuiteDataSet
{
    private SuiteDataSet(string name, float[][] features, string[] labels)
    {
        Name = name;
        Features = features;
        Labels = labels;
        Task = TaskOf(name, labels);
        Classes = Task == SuiteTask.Classification ? [.. labels.Distinct().Order(StringComparer.Ordinal)] : [];
    }

    /// <summary>A data set from rows in memory (generated data); its task follows from the name as for the files.</summary>
    public static SuiteDataSet Create(string name, float[][] features, string[] labels) => new(name, features, labels);

    /// <summary>The file name without ".csv" (or "digits", "anomaly-digits").</summary>
    public string Name { get; }

    /// <summary>What the set is for.</summary>
    public SuiteTask Task { get; }

    /// <summary>Feature rows, in file order.</summary>
    public float[][] Features { get; }

    /// <summary>The label column as written: class name, target value, or 1/0 for anomaly/normal.</summary>
    public string[] Labels { get; }

    /// <summary>Distinct class names in ordinal order (classification), else empty.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Rows.</summary>
    public int Rows => Features.Length;

    /// <summary>Features per row.</summary>
    public int Width => Features[0].Length;

    /// <summary>Whether row <paramref name="row"/> is an anomaly (anomaly sets).</summary>
    public bool IsAnomaly(int row) => Labels[row] != "0";

    /// <summary>The target of row <paramref name="row"/> (regression sets).</summary>
    public float Target(int row) => float.Parse(Labels[row], CultureInfo.InvariantCulture);

    /// <summary>
    /// Training and test rows of split <paramref name="split"/> (1…5): classification holds out 20% of each class,
    /// regression 20% of the rows, anomaly detection 30% of the normal rows (trained on the other normal rows, tested on
    /// those plus every anomaly).
    /// </summary>
    public (int[] Train, int[] Test) Split(int split)
    {
        var all = Enumerable.Range(0, Rows).ToArray();
        switch (Task)
        {
            case SuiteTask.Classification:
            {
                var heldOut = SuiteSplit.HeldOut(all.GroupBy(r => Labels[r]).Select(g => (IReadOnlyList<int>)g.ToArray()), split, 0.2);
                return (all.Where(r => !heldOut.Contains(r)).ToArray(), all.Where(heldOut.Contains).ToArray());
            }
            case SuiteTask.Regression:
            {
                var heldOut = SuiteSplit.HeldOut([all], split, 0.2);
                return (all.Where(r => !heldOut.Contains(r)).ToArray(), all.Where(heldOut.Contains).ToArray());
            }
            default:
            {
                var normal = all.Where(r => !IsAnomaly(r)).ToArray();
                var heldOut = SuiteSplit.HeldOut([normal], split, 0.3);
                return (normal.Where(r => !heldOut.Contains(r)).ToArray(), all.Where(r => heldOut.Contains(r) || IsAnomaly(r)).ToArray());
            }
        }
    }

    /// <summary>The suite's data sets: the CSV files of shared/data/tabular, and the digits as a classification and an
    /// anomaly set ("anomaly-digits": 0–8 normal, 9 anomalous).</summary>
    public static IReadOnlyList<string> Names(string? folder = null)
    {
        var files = Directory.GetFiles(folder ?? SharedData.Locate("tabular"), "*.csv").Select(f => Path.GetFileNameWithoutExtension(f)!);
        return [.. (folder is null ? files.Append("digits").Append("anomaly-digits") : files).Order(StringComparer.Ordinal)];
    }

    /// <summary>Loads data set <paramref name="name"/> (see <see cref="Names"/>).</summary>
    /// <exception cref="ArgumentException">No such data set.</exception>
    /// <exception cref="InvalidDataException">A ragged row or a cell that is not a number (file and line named).</exception>
    public static SuiteDataSet Load(string name, string? folder = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (folder is null && name is "digits" or "anomaly-digits")
        {
            var digits = Digits.Load();
            var labels = digits.Labels.Select(l => name == "digits" ? l.ToString(CultureInfo.InvariantCulture) : l == 9 ? "1" : "0").ToArray();
            return new SuiteDataSet(name, digits.Pixels, labels);
        }
        folder ??= SharedData.Locate("tabular");
        var path = Path.Combine(folder, name + ".csv");
        if (!File.Exists(path))
            throw new ArgumentException($"'{name}' is not a data set of the suite; it has: {string.Join(", ", Names(folder))}.", nameof(name));
        var lines = File.ReadAllLines(path).Select(l => l.Replace("\"", "", StringComparison.Ordinal)).ToArray();
        var width = lines[0].Split(',').Length - 1;
        var features = new float[lines.Length - 1][];
        var labelColumn = new string[lines.Length - 1];
        for (var i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            if (cells.Length != width + 1)
                throw new InvalidDataException($"{path}, line {i + 1}: expected {width + 1} cells, found {cells.Length}.");
            features[i - 1] = new float[width];
            for (var j = 0; j < width; j++)
                if (!float.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out features[i - 1][j]))
                    throw new InvalidDataException($"{path}, line {i + 1}, column {j + 1}: '{cells[j]}' is not a number.");
            labelColumn[i - 1] = cells[width];
        }
        return new SuiteDataSet(name, features, labelColumn);
    }

    /// <summary>The peers' rule: "anomaly-…" sets are anomaly detection; numeric labels with more than 20 values regression.</summary>
    private static SuiteTask TaskOf(string name, string[] labels)
    {
        if (name.StartsWith("anomaly-", StringComparison.Ordinal))
            return SuiteTask.Anomaly;
        var numeric = labels.All(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        return numeric && labels.Select(l => double.Parse(l, CultureInfo.InvariantCulture)).Distinct().Count() > 20
            ? SuiteTask.Regression : SuiteTask.Classification;
    }
}
