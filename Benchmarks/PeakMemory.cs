using System.Diagnostics;
using System.Globalization;

namespace Invertible.Benchmarks;

/// <summary>
/// Peak resident memory of one inverse forward + backward, each configuration in a fresh process (libtorch caches
/// freed memory, so in-process deltas mislead). Reported: peak RSS (VmHWM) minus RSS after setup,
/// with glibc's mmap threshold pinned in every mode (see <see cref="Invertible.Torch.NativeMemory"/>).
/// </summary>
internal static class PeakMemory
{
    public const string ChildCommand = "memory-child";

    public static void Print(string[] args)
    {
        var iterationCounts = args.Length > 0 ? args.Select(int.Parse).ToArray() : [10, 50, 100];
        Console.WriteLine("| backward | forward iterations | peak growth (MB) |");
        Console.WriteLine("|---|---|---|");
        foreach (var mode in Enum.GetValues<BackwardMode>())
        foreach (var iterations in iterationCounts)
            Console.WriteLine($"| {mode} | {iterations} | {Child(mode, iterations):F1} |");
    }

    private static double Child(BackwardMode mode, int iterations)
    {
        var self = Environment.ProcessPath!;
        var arguments = self.EndsWith("dotnet", StringComparison.Ordinal)
            ? $"\"{typeof(PeakMemory).Assembly.Location}\" {ChildCommand} {mode} {iterations}"
            : $"{ChildCommand} {mode} {iterations}";
        using var process = Process.Start(new ProcessStartInfo(self, arguments) { RedirectStandardOutput = true })!;
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"memory child failed ({process.ExitCode}): {text}");
        return double.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    public static void RunChild(string[] args)
    {
        // Same allocator settings for every mode (the solvers pin it themselves; the unrolled path never calls one).
        Invertible.Torch.NativeMemory.PinMmapThreshold(16 * 1024);
        var step = new InverseBackwardStep(Enum.Parse<BackwardMode>(args[0]), int.Parse(args[1], CultureInfo.InvariantCulture));
        var baseline = StatusKilobytes("VmRSS");
        step.Run();
        var peak = StatusKilobytes("VmHWM");
        Console.WriteLine(((peak - baseline) / 1024.0).ToString("F1", CultureInfo.InvariantCulture));
    }

    private static long StatusKilobytes(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
