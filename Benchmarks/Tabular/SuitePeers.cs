using System.Globalization;
using Invertible.Samples.Shared;

namespace Invertible.Benchmarks.Tabular;

/// <summary>One scikit-learn result from shared/peers/tabular-peers.tsv (the peers' script on the same splits).</summary>
public sealed record SuitePeer(string Data, string Model, double Mean, double Sd, double SecondsPerFit);

/// <summary>The scikit-learn peers' results, read from shared/peers/tabular-peers.tsv when it is there.</summary>
public static class SuitePeers
{
    /// <summary>The peers' results (empty when the file is absent), and the file's first comment line (how it was made).</summary>
    public static (IReadOnlyList<SuitePeer> Results, string? Provenance) Load()
    {
        string path;
        try
        {
            path = Path.Combine(SharedData.Locate("tabular"), "..", "..", "peers", "tabular-peers.tsv");
        }
        catch (FileNotFoundException)
        {
            return ([], null);
        }
        if (!File.Exists(path))
            return ([], null);
        var lines = File.ReadAllLines(path);
        var provenance = lines.FirstOrDefault(l => l.StartsWith('#'))?.TrimStart('#', ' ');
        var results = lines.Where(l => !l.StartsWith('#') && !l.StartsWith("data\t", StringComparison.Ordinal) && l.Length > 0)
            .Select(l => l.Split('\t'))
            .Select(c => new SuitePeer(c[0], c[2], Parse(c[4]), Parse(c[5]), Parse(c[6])))
            .ToList();
        return (results, provenance);
    }

    /// <summary>The best peer on <paramref name="data"/> (highest mean), or null.</summary>
    public static SuitePeer? Best(IReadOnlyList<SuitePeer> peers, string data)
        => peers.Where(p => p.Data == data).OrderByDescending(p => p.Mean).FirstOrDefault();

    private static double Parse(string s) => double.Parse(s, CultureInfo.InvariantCulture);
}
