using System.Diagnostics;
using System.Globalization;

namespace Invertible.Benchmarks;

/// <summary>
/// Peak resident memory of one training step (an inverse's forward + backward, or a log-determinant's), each
/// configuration in a fresh process (libtorch caches
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
            Console.WriteLine($"| {mode} | {iterations} | {Child("inverse", mode.ToString(), iterations):F1} |");
        Console.WriteLine();
        Console.WriteLine("| equilibrium backward | forward iterations | peak growth (MB) |");
        Console.WriteLine("|---|---|---|");
        foreach (var mode in Enum.GetValues<BackwardMode>())
        foreach (var iterations in iterationCounts)
            Console.WriteLine($"| {mode} | {iterations} | {Child("equilibrium", mode.ToString(), iterations):F1} |");
        Console.WriteLine();
        Console.WriteLine("| log-det gradient | series terms | peak growth (MB) |");
        Console.WriteLine("|---|---|---|");
        foreach (var gradient in new[] { "Neumann", "Backprop" })
        foreach (var terms in new[] { 10, 20 })
            Console.WriteLine($"| {gradient} | {terms} | {Child("logdet", gradient, terms):F1} |");
    }

    private static double Child(string scenario, string mode, int count)
    {
        var self = Environment.ProcessPath!;
        var arguments = $"{ChildCommand} {scenario} {mode} {count}";
        if (self.EndsWith("dotnet", StringComparison.Ordinal))
            arguments = $"\"{typeof(PeakMemory).Assembly.Location}\" " + arguments;
        using var process = Process.Start(new ProcessStartInfo(self, arguments) { RedirectStandardOutput = true })!;
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"memory child failed ({process.ExitCode}): {text}");
        return double.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    public static void RunChild(string[] args)
    {
        // Same allocator settings for every configuration (see NativeMemory): live tensors, not heap retention.
        Invertible.Torch.NativeMemory.PinMmapThreshold(16 * 1024);
        var count = int.Parse(args[2], CultureInfo.InvariantCulture);
        Action step = args[0] switch
        {
            "inverse" => new InverseBackwardStep(Enum.Parse<BackwardMode>(args[1]), count).Run,
            "equilibrium" => new EquilibriumBackwardStep(Enum.Parse<BackwardMode>(args[1]), count).Run,
            _ => new LogDetTrainingStep(args[1] == "Neumann", count).Run,
        };
        var baseline = StatusKilobytes("VmRSS");
        step();
        var peak = StatusKilobytes("VmHWM");
        Console.WriteLine(((peak - baseline) / 1024.0).ToString("F1", CultureInfo.InvariantCulture));
    }

    private static long StatusKilobytes(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
