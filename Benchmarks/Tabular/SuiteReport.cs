using System.Globalization;
using System.Text;

namespace Invertible.Benchmarks.Tabular;

/// <summary>The suite's results as a TSV (one line per data set and trainer) and as markdown tables per group.</summary>
public static class SuiteReport
{
    /// <summary>data, group, trainer, ours, variant, metric, mean, sd, seconds per fit, per-split values, error.</summary>
    public static string Tsv(IReadOnlyList<SuiteResult> results)
    {
        var text = new StringBuilder("data\tgroup\ttrainer\tours\tvariant\tmetric\tmean\tsd\tseconds_per_fit\tvalues\terror\n");
        foreach (var r in results)
            text.AppendLine(Invariant($"{r.Data}\t{r.Group}\t{r.Trainer}\t{r.Ours}\t{r.Variant}\t{r.Metric}\t{r.Mean:F4}\t{r.Sd:F4}\t{r.SecondsPerFit:G4}\t{string.Join(",", r.Values.Select(v => v.ToString("F4", CultureInfo.InvariantCulture)))}\t{r.Error}"));
        return text.ToString();
    }

    /// <summary>
    /// Per group: the metric's mean ± sd per data set and trainer (the best of the run in bold), scikit-learn's best
    /// peer on the same splits, each trainer's mean rank over the group's data sets (1 = best; ties share the average
    /// rank), then the seconds per fit.
    /// </summary>
    public static string Markdown(IReadOnlyList<SuiteResult> results, (IReadOnlyList<SuitePeer> Results, string? Provenance) peers, int splits)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Tabular suite: mean ± sd over {splits} split{(splits == 1 ? "" : "s")} (shared/docs/BENCHMARKS.md), default options, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores."));
        foreach (var group in results.Select(r => r.Group).Distinct())
        {
            var rows = results.Where(r => r.Group == group).ToList();
            var trainers = rows.Select(r => (r.Trainer, r.Ours)).Distinct().ToList();
            var sets = rows.Select(r => r.Data).Distinct().ToList();
            var hasPeers = sets.Any(s => SuitePeers.Best(peers.Results, s) is not null);
            var ranks = MeanRanks(rows);
            text.AppendLine();
            text.AppendLine(Invariant($"### {group}: {SuiteMetrics.NameOf(group)}"));
            text.AppendLine();
            text.AppendLine("| data set | " + string.Join(" | ", trainers.Select(Title)) + (hasPeers ? " | scikit-learn best |" : " |"));
            text.AppendLine("| --- |" + string.Concat(Enumerable.Repeat(" --- |", trainers.Count + (hasPeers ? 1 : 0))));
            foreach (var set in sets)
            {
                var cells = trainers.Select(t => rows.FirstOrDefault(r => r.Data == set && r.Trainer == t.Trainer)).ToList();
                var top = cells.Where(c => c is not null && !double.IsNaN(c.Mean)).Select(c => c!.Mean).DefaultIfEmpty(double.NaN).Max();
                var line = $"| {set} | " + string.Join(" | ", cells.Select(c => c is null ? "" : Cell(c, top)));
                if (hasPeers)
                    line += SuitePeers.Best(peers.Results, set) is { } peer ? Invariant($" | {peer.Mean:F3} ({peer.Model})") : " | ";
                text.AppendLine(line + " |");
            }
            text.AppendLine("| mean rank | " + string.Join(" | ", trainers.Select(t => Invariant($"{ranks[t.Trainer]:F2}"))) + (hasPeers ? " | |" : " |"));
            text.AppendLine();
            text.AppendLine("| seconds per fit | " + string.Join(" | ", trainers.Select(Title)) + " |");
            text.AppendLine("| --- |" + string.Concat(Enumerable.Repeat(" --- |", trainers.Count)));
            foreach (var set in sets)
                text.AppendLine($"| {set} | " + string.Join(" | ", trainers.Select(t => rows.FirstOrDefault(r => r.Data == set && r.Trainer == t.Trainer) is { } r ? Invariant($"{r.SecondsPerFit:F2}") : "")) + " |");
            var failures = rows.Where(r => r.Error is not null).ToList();
            foreach (var failure in failures)
                text.AppendLine().AppendLine($"{failure.Trainer} on {failure.Data} failed: {failure.Error}");
        }
        if (peers.Provenance is { } provenance)
            text.AppendLine().AppendLine($"scikit-learn: shared/peers/tabular-peers.tsv ({provenance}).");
        return text.ToString();
    }

    /// <summary>Each trainer's rank on each data set (by mean, 1 = best, ties averaged, a failure last), averaged over the sets.</summary>
    public static IReadOnlyDictionary<string, double> MeanRanks(IReadOnlyList<SuiteResult> rows)
    {
        var sums = new Dictionary<string, (double Sum, int Count)>();
        foreach (var set in rows.GroupBy(r => r.Data))
        {
            var entries = set.ToList();
            foreach (var entry in entries)
            {
                double Score(SuiteResult r) => double.IsNaN(r.Mean) ? double.NegativeInfinity : r.Mean;
                var better = entries.Count(o => Score(o) > Score(entry));
                var tied = entries.Count(o => Score(o) == Score(entry));
                var rank = better + (tied + 1) / 2.0;
                var (sum, count) = sums.GetValueOrDefault(entry.Trainer);
                sums[entry.Trainer] = (sum + rank, count + 1);
            }
        }
        return sums.ToDictionary(p => p.Key, p => p.Value.Sum / p.Value.Count);
    }

    private static string Title((string Trainer, bool Ours) t) => t.Ours ? $"**{t.Trainer}** (ours)" : t.Trainer;

    private static string Cell(SuiteResult r, double top)
    {
        if (double.IsNaN(r.Mean))
            return "failed";
        var value = Invariant($"{r.Mean:F3} ± {r.Sd:F3}");
        if (r.Variant != "default options")
            value += $" ({r.Variant})";
        return r.Mean == top ? $"**{value}**" : value;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
