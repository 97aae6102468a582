using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Invertible.Benchmarks.Tabular;

/// <summary>
/// <c>dotnet run -c Release --project Benchmarks -- tabular [--splits N] [--trainers a,b] [--data DIR] [--output DIR] [names…]</c>:
/// every data set of the suite (or the named ones) with every trainer of its groups, over the suite's splits, in one
/// run; writes tabular.tsv and tabular.md into the output folder (default tabular-results). <c>--data</c> runs the CSV
/// files of another folder instead (same format: a header, numeric features, then the label; "anomaly-" names for
/// anomaly detection), to measure the defaults on data nobody tuned them on.
/// </summary>
public static class SuiteRun
{
    /// <summary>Parses the arguments, runs, prints the tables and writes the files; returns the exit code.</summary>
    public static int Command(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        var splits = SuiteSplit.Splits.Length;
        var output = "tabular-results";
        string[]? trainerFilter = null;
        string? folder = null;
        var names = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--splits" when i + 1 < args.Length && int.TryParse(args[i + 1], out var count) && count is >= 1 and <= 5:
                    splits = count;
                    i++;
                    break;
                case "--output" when i + 1 < args.Length:
                    output = args[++i];
                    break;
                case "--data" when i + 1 < args.Length:
                    folder = args[++i];
                    break;
                case "--trainers" when i + 1 < args.Length:
                    trainerFilter = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                case var option when option.StartsWith("--", StringComparison.Ordinal):
                    Console.Error.WriteLine($"tabular: unknown or incomplete option '{option}'. Usage: tabular [--splits 1-5] [--trainers Name,…] [--data DIR] [--output DIR] [data sets…]");
                    return 2;
                default:
                    names.Add(args[i]);
                    break;
            }
        }
        var known = SuiteDataSet.Names(folder);
        var unknown = names.Where(n => !known.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            Console.Error.WriteLine($"tabular: no data set named {string.Join(", ", unknown)}; the suite has: {string.Join(", ", known)}.");
            return 2;
        }
        var trainers = SuiteTrainers.All.Where(t => trainerFilter is null || trainerFilter.Contains(t.Name, StringComparer.OrdinalIgnoreCase)).ToList();
        var results = Run(names.Count > 0 ? names : known, trainers, SuiteSplit.Splits[..splits], folder);

        Directory.CreateDirectory(output);
        var peers = SuitePeers.Load();
        File.WriteAllText(Path.Combine(output, "tabular.tsv"), SuiteReport.Tsv(results));
        var markdown = SuiteReport.Markdown(results, peers, splits);
        File.WriteAllText(Path.Combine(output, "tabular.md"), markdown);
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"Wrote {Path.Combine(output, "tabular.tsv")} and {Path.Combine(output, "tabular.md")}.");
        return 0;
    }

    /// <summary>Runs every (data set, trainer, split) and returns one result per data set and trainer (the best variant).</summary>
    public static IReadOnlyList<SuiteResult> Run(IReadOnlyList<string> names, IReadOnlyList<SuiteTrainer> trainers, int[] splits, string? folder = null)
    {
        var data = names.Select(n => SuiteDataSet.Load(n, folder)).ToList();
        var work = data.SelectMany(d => SuiteTrainers.GroupsOf(d).SelectMany(g => trainers.Where(t => t.Group == g).Select(t => (Data: d, Trainer: t)))).ToList();
        var fits = work.Sum(w => w.Trainer.Variants.Count * splits.Length);
        var results = new List<SuiteResult>();
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("tabular suite", maxValue: fits);
                    foreach (var (set, trainer) in work)
                    {
                        var result = RunOne(set, trainer, splits, (what) =>
                        {
                            task.Description = Markup.Escape(what);
                            task.Increment(0);
                        }, () => task.Increment(1));
                        results.Add(result);
                        AnsiConsole.MarkupLine(Markup.Escape(Line(result)));
                    }
                });
        }
        else
        {
            var done = 0;
            foreach (var (set, trainer) in work)
            {
                var result = RunOne(set, trainer, splits, _ => { }, () => done++);
                results.Add(result);
                Console.WriteLine($"[{done}/{fits}] {Line(result)}");
            }
        }
        return results;
    }

    private static SuiteResult RunOne(SuiteDataSet data, SuiteTrainer trainer, int[] splits, Action<string> status, Action fitted)
    {
        WarmUp(data, trainer, status);
        SuiteResult? best = null;
        foreach (var (variant, fit) in trainer.Variants)
        {
            var values = new List<double>();
            var seconds = new List<double>();
            string? error = null;
            foreach (var split in splits)
            {
                status($"{data.Name} · {trainer.Group} · {trainer.Name} ({variant}) · split {split}");
                var (train, test) = data.Split(split);
                try
                {
                    var watch = Stopwatch.StartNew();
                    var predictor = fit(data, train, split);
                    seconds.Add(watch.Elapsed.TotalSeconds);
                    values.Add(SuiteMetrics.Of(trainer.Group, data, test, predictor(test)));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    error = $"split {split}: {e.GetType().Name}: {e.Message.Split('\n')[0]}";
                    values.Add(double.NaN);
                }
                fitted();
            }
            var result = new SuiteResult(data.Name, trainer.Group, trainer.Name, trainer.Ours, variant, [.. values], [.. seconds], error);
            if (best is null || double.IsNaN(best.Mean) || result.Mean > best.Mean)
                best = result;
        }
        return best!;
    }

    private static readonly HashSet<(string, SuiteGroup)> Warm = [];

    /// <summary>
    /// The first fit of a trainer in the process compiles its code (and loads libtorch): one untimed fit on a few rows,
    /// so that the seconds per fit measure training.
    /// </summary>
    private static void WarmUp(SuiteDataSet data, SuiteTrainer trainer, Action<string> status)
    {
        if (!Warm.Add((trainer.Name, trainer.Group)))
            return;
        status($"{trainer.Name} ({trainer.Group}): warming up");
        var (train, test) = data.Split(SuiteSplit.Splits[0]);
        try
        {
            trainer.Variants[0].Fit(data, train[..Math.Min(train.Length, 100)], 0)(test[..Math.Min(test.Length, 10)]);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A warm-up on a few rows may fail where the real fit does not (a class missing); the real fit reports errors.
        }
    }

    private static string Line(SuiteResult r)
        => $"{r.Data,-18} {r.Group,-10} {r.Trainer + (r.Ours ? " (ours)" : ""),-24} {r.Metric} {r.Mean:F4} ± {r.Sd:F4}  {r.SecondsPerFit:F2} s per fit"
           + (r.Variant == "default options" ? "" : $"  [{r.Variant}]") + (r.Error is null ? "" : $"  FAILED {r.Error}");
}
