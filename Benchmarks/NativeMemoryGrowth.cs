using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>
/// RSS of a long libtorch loop under glibc allocator settings, one fresh process per setting: a training step of a
/// block's inverse (d = 64, hidden 256, batch 256, 10 Picard iterations forward, implicit backward, Adam), repeated.
/// Reported: RSS after 100 steps, peak RSS after all steps, their ratio, and the time per step.
/// </summary>
internal static class NativeMemoryGrowth
{
    public const string ChildCommand = "native-memory-child";

    public static void Print(int steps)
    {
        Console.WriteLine($"| allocator setting | RSS after 100 steps (MB) | peak after {steps} steps (MB) | ratio | ms per step |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var setting in new[] { "default", "library", "mmap-threshold-128k", "arena-max-2", "trim-every-100" })
        {
            var self = Environment.ProcessPath!;
            var arguments = $"{ChildCommand} {setting} {steps}";
            if (self.EndsWith("dotnet", StringComparison.Ordinal))
                arguments = $"\"{typeof(NativeMemoryGrowth).Assembly.Location}\" " + arguments;
            var start = new ProcessStartInfo(self, arguments) { RedirectStandardOutput = true };
            // "default" is glibc's own behaviour: the library's settings switched off.
            if (setting != "library")
                start.Environment["INVERTIBLE_NATIVE_MEMORY"] = "off";
            using var process = Process.Start(start)!;
            var text = process.StandardOutput.ReadToEnd().Trim().Split(' ');
            process.WaitForExit();
            var (early, peak, perStep) = (double.Parse(text[0], CultureInfo.InvariantCulture), double.Parse(text[1], CultureInfo.InvariantCulture), double.Parse(text[2], CultureInfo.InvariantCulture));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {setting} | {early:F0} | {peak:F0} | {peak / early:F2} | {perStep:F2} |"));
        }
    }

    public static void RunChild(string[] args)
    {
        var (setting, steps) = (args[0], int.Parse(args[1], CultureInfo.InvariantCulture));
        switch (setting)
        {
            case "mmap-threshold-128k":
                mallopt(-3, 128 * 1024);
                break;
            case "arena-max-2":
                mallopt(-8, 2);
                break;
        }
        manual_seed(1);
        var block = Models.Block(BlockKind.Random, 64, 256, 0.9);
        block.train();
        var optimizer = optim.Adam(block.parameters(), 1e-4);
        var options = new ImplicitOptions
        {
            Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, MaxIterations = 10, Tolerance = 0, ThrowOnNonConvergence = false },
            Backward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, Tolerance = 1e-6, ThrowOnNonConvergence = false },
        };
        var target = randn(256, 64);
        double early = 0;
        var watch = new Stopwatch();
        for (var step = 1; step <= steps; step++)
        {
            if (step == 101)
                watch.Start();
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                block.Inverse(target.add(randn(256, 64).mul(0.01)), options).square().mean().backward();
                optimizer.step();
            }
            if (setting == "trim-every-100" && step % 100 == 0)
                malloc_trim(0);
            if (step == 100)
                early = Kilobytes("VmRSS") / 1024.0;
        }
        var peak = Kilobytes("VmHWM") / 1024.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{early:F1} {peak:F1} {watch.Elapsed.TotalMilliseconds / (steps - 100):F3}"));
    }

    private static long Kilobytes(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    [DllImport("libc")]
    private static extern int mallopt(int parameter, int value);

    [DllImport("libc")]
    private static extern int malloc_trim(nuint pad);
}
