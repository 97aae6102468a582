using System.Diagnostics;
using System.Globalization;
using Invertible.Torch.Core;

namespace Invertible.Benchmarks;

/// <summary>
/// Peak resident memory of one training step (an inverse's forward + backward, or a log-determinant's), each
/// configuration in a fresh process (libtorch caches
/// freed memory, so in-process deltas mislead). Reported: peak RSS (VmHWM) minus RSS after setup,
/// with glibc's mmap threshold pinned in every mode (see <see cref="Invertible.Torch.Core.NativeMemory"/>).
/// </summary>
internal static class PeakMemory
{
    public const string ChildCommand = "memory-child";

    public static void Print(string[] args)
    {
        var iterationCounts = args.Length > 0 ? args.Select(int.Parse).ToArray() : [10, 50, 100];
        var backwardModes = Enum.GetNames<BackwardMode>();
        Table("inverse", "backward", backwardModes, "forward iterations", iterationCounts);
        Table("equilibrium", "equilibrium backward", backwardModes, "forward iterations", iterationCounts);
        Table("logdet", "log-det gradient", ["Neumann", "Backprop"], "series terms", [10, 20]);
    }

    private static void Table(string scenario, string modeHeader, string[] modes, string countHeader, int[] counts)
    {
        Console.WriteLine($"| {modeHeader} | {countHeader} | peak growth (MB) |");
        Console.WriteLine("|---|---|---|");
        foreach (var mode in modes)
        foreach (var count in counts)
            Console.WriteLine($"| {mode} | {count} | {Child(scenario, mode, count):F1} |");
        Console.WriteLine();
    }

    internal static double Child(string scenario, string mode, int count)
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
        Invertible.Torch.Core.NativeMemory.PinMmapThreshold(16 * 1024);
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
