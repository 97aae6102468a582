namespace Invertible.Benchmarks.Tabular;

/// <summary>One trainer on one data set: its metric on each split and the seconds of each fit.</summary>
public sealed record SuiteResult(string Data, SuiteGroup Group, string Trainer, bool Ours, string Variant, double[] Values, double[] Seconds, string? Error = null)
{
    /// <summary>accuracy, R2 or AUROC.</summary>
    public string Metric => SuiteMetrics.NameOf(Group);

    /// <summary>Mean over the splits.</summary>
    public double Mean => Values.Length == 0 ? double.NaN : Values.Average();

    /// <summary>Standard deviation over the splits (population form, as numpy's default, which the peers' script reports).</summary>
    public double Sd => Values.Length == 0 ? double.NaN : Math.Sqrt(Values.Sum(v => (v - Mean) * (v - Mean)) / Values.Length);

    /// <summary>Mean seconds per fit.</summary>
    public double SecondsPerFit => Seconds.Length == 0 ? double.NaN : Seconds.Average();
}
