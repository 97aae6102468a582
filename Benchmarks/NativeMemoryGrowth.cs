using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Solvers;
using Invertible.Torch.Training;
using Invertible.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>
/// RSS of a long libtorch loop under glibc allocator settings, one fresh process per setting: a training step of a
/// block's inverse (d = 64, hidden 256, batch 256, 10 Picard iterations forward, implicit backward, Adam), repeated.
/// Reported: RSS after 100 steps, peak RSS after all steps, their ratio, and the time per step. Settings combine with
/// '+': <c>fit</c> runs <see cref="Trainer.Fit(nn.Module, IReadOnlyList{Tensor}, MinibatchLoss, TrainerOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>
/// on a flow instead, <c>trimmer</c> checks a <see cref="Invertible.Torch.Core.NativeHeapTrimmer"/> between steps (the
/// trainer's default; without it the fit runs with the trimmer disabled), the others set glibc's allocator.
/// NATIVE_MEMORY_TRACE=1 prints RSS every 250 steps.
/// </summary>
internal static class NativeMemoryGrowth
{
    public const string ChildCommand = "native-memory-child";

    /// <summary>Settings compared by default: glibc's own and the candidates tried against it.</summary>
    public static readonly string[] Settings =
        ["default", "trimmer", "trim-every-1", "mmap-threshold-16384k", "arena-max-1", "fit", "fit+trimmer"];

    public static void Print(int steps, IReadOnlyList<string>? settings = null)
    {
        var check = new NativeHeapTrimmer();
        check.Check();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 100_000; i++)
            check.Check();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"NativeHeapTrimmer.Check without a trim: {watch.Elapsed.TotalMicroseconds / 100_000:F2} µs per call"));
        Console.WriteLine();
        Console.WriteLine($"| allocator setting | RSS after 100 steps (MB) | peak after {steps} steps (MB) | ratio | ms per step |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var setting in settings ?? Settings)
        {
            var self = Environment.ProcessPath!;
            var arguments = $"{ChildCommand} {setting} {steps}";
            if (self.EndsWith("dotnet", StringComparison.Ordinal))
                arguments = $"\"{typeof(NativeMemoryGrowth).Assembly.Location}\" " + arguments;
            var start = new ProcessStartInfo(self, arguments) { RedirectStandardOutput = true };
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
        var trimEvery = 0;
        var fit = false;
        var trimmer = false;
        foreach (var part in setting.Split('+'))
        {
            if (part == "fit")
                fit = true;
            else if (part == "trimmer")
                trimmer = true;
            if (part.StartsWith("mmap-threshold-", StringComparison.Ordinal))
                mallopt(-3, int.Parse(part["mmap-threshold-".Length..^1], CultureInfo.InvariantCulture) * 1024);
            else if (part.StartsWith("trim-threshold-", StringComparison.Ordinal))
                mallopt(-1, int.Parse(part["trim-threshold-".Length..^1], CultureInfo.InvariantCulture) * 1024);
            else if (part.StartsWith("arena-max-", StringComparison.Ordinal))
                mallopt(-8, int.Parse(part["arena-max-".Length..], CultureInfo.InvariantCulture));
            else if (part.StartsWith("trim-every-", StringComparison.Ordinal))
                trimEvery = int.Parse(part["trim-every-".Length..], CultureInfo.InvariantCulture);
        }
        if (fit)
        {
            RunFit(steps, trimmer ? NativeHeapTrimmer.DefaultGrowthLimit : double.PositiveInfinity);
            return;
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
        var heap = trimmer ? new NativeHeapTrimmer() : null;
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
            heap?.Check();
            if (trimEvery > 0 && step % trimEvery == 0)
                Invertible.Torch.Core.NativeMemory.TrimHeap();
            if (step == 100)
                early = Kilobytes("VmRSS") / 1024.0;
            if (Environment.GetEnvironmentVariable("NATIVE_MEMORY_TRACE") is not null && step % 250 == 0)
                Console.Error.WriteLine($"step {step}: RSS {Kilobytes("VmRSS") / 1024.0:F0} MB, peak {Kilobytes("VmHWM") / 1024.0:F0} MB, managed committed {GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:F0} MB");
        }
        var peak = Kilobytes("VmHWM") / 1024.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{early:F1} {peak:F1} {watch.Elapsed.TotalMilliseconds / (steps - 100):F3}"));
    }

    /// <summary>
    /// <see cref="Trainer.Fit(nn.Module, IReadOnlyList{Tensor}, MinibatchLoss, TrainerOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>
    /// of a flow as the ML layer runs it: 16 features, 1 100 rows (a ragged last batch, a validation pass and a
    /// best-weights snapshot every epoch), batch 64, until <paramref name="steps"/> optimiser steps are done.
    /// </summary>
    private static void RunFit(int steps, double heapGrowthLimit)
    {
        manual_seed(1);
        var rows = randn(1100, 16).matmul(randn(16, 16).mul(0.5)).add(randn(1100, 16).tanh());
        var flow = new InvertibleResNetFlow(16, new InvertibleResNetFlowOptions { Blocks = 4, HiddenFeatures = 64 });
        const int batch = 64;
        var stepsPerEpoch = (int)Math.Ceiling(1000 / (double)batch);
        double early = 0;
        var watch = new Stopwatch();
        var progress = new Synchronous<TrainingProgress>(p =>
        {
            var done = p.Epoch * stepsPerEpoch;
            if (early == 0 && done >= 100)
            {
                early = Kilobytes("VmRSS") / 1024.0;
                watch.Start();
            }
            if (Environment.GetEnvironmentVariable("NATIVE_MEMORY_TRACE") is not null && p.Epoch % 20 == 0)
                Console.Error.WriteLine($"step {done}: RSS {Kilobytes("VmRSS") / 1024.0:F0} MB, peak {Kilobytes("VmHWM") / 1024.0:F0} MB");
        });
        var epochs = (int)Math.Ceiling(steps / (double)stepsPerEpoch);
        var options = new TrainerOptions { Epochs = epochs, BatchSize = batch, LearningRate = 1e-3, ValidationFraction = 100 / 1100.0, EarlyStoppingPatience = 0, Seed = 1, NativeHeapGrowthLimit = heapGrowthLimit };
        Trainer.Fit(flow, [rows], (b, _) => flow.LogProb(b[0]).mean().neg(), options, progress);
        var peak = Kilobytes("VmHWM") / 1024.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{early:F1} {peak:F1} {watch.Elapsed.TotalMilliseconds / (epochs * stepsPerEpoch - 100):F3}"));
    }

    /// <summary>Reports on the caller's thread (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class Synchronous<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private static long Kilobytes(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    [DllImport("libc")]
    private static extern int mallopt(int parameter, int value);
}
