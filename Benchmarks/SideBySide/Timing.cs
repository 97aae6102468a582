using System.Diagnostics;

namespace Invertible.Benchmarks.SideBySide;

/// <summary>The peer's timing rule, so both sides are measured alike: warm up, then the median (and p10/p90) of
/// <c>reps</c> samples, each the mean of <c>inner</c> calls. The warm-up also lasts at least half a second, so .NET's
/// tiered JIT has promoted the hot methods (Python has no such phase).</summary>
internal readonly record struct Timing(double Median, double P10, double P90)
{
    public static Timing Of(Action run, int warmup, int reps, int inner = 1)
    {
        var warm = Stopwatch.GetTimestamp();
        for (var i = 0; i < warmup || Stopwatch.GetElapsedTime(warm).TotalSeconds < 0.5; i++)
            run();
        var samples = new double[reps];
        for (var r = 0; r < reps; r++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < inner; i++)
                run();
            samples[r] = Stopwatch.GetElapsedTime(start).TotalSeconds / inner;
        }
        Array.Sort(samples);
        return new Timing(samples[reps / 2], samples[reps / 10], samples[9 * reps / 10]);
    }

    /// <summary>Repetitions that keep one configuration near <paramref name="budgetSeconds"/> (the peer's rule).</summary>
    public static int RepsFor(Action run, double budgetSeconds = 15, int min = 5, int max = 40)
    {
        var start = Stopwatch.GetTimestamp();
        run();
        var once = Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-9);
        return (int)Math.Min(max, Math.Max(min, budgetSeconds / once));
    }
}
