namespace Invertible.Torch.Training;

/// <summary>Named per-step measurements (e.g. solver iterations) that a loss reports; the trainer averages them per epoch.</summary>
public sealed class TrainingMetrics
{
    private readonly Dictionary<string, (double Sum, int Count, double Last)> values = [];

    /// <summary>Records one value of <paramref name="name"/>.</summary>
    public void Add(string name, double value)
    {
        values.TryGetValue(name, out var current);
        values[name] = (current.Sum + value, current.Count + 1, value);
    }

    /// <summary>The value of <paramref name="name"/> recorded last in this epoch, or null if none was.</summary>
    public double? Last(string name) => values.TryGetValue(name, out var current) ? current.Last : null;

    internal IReadOnlyDictionary<string, double> AveragesAndReset()
    {
        var averages = values.ToDictionary(pair => pair.Key, pair => pair.Value.Sum / pair.Value.Count);
        values.Clear();
        return averages;
    }
}
