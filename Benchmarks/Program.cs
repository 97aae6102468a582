using Invertible.Benchmarks;

// Timing runs go through BenchmarkDotNet; evaluation counts and peak memory are not timings, so they have their own
// commands (peak memory needs one fresh process per configuration: libtorch's allocator caches freed memory).
switch (args.FirstOrDefault())
{
    case "evaluations":
        SolverEvaluations.Print();
        Console.WriteLine();
        EquilibriumSolverSetup.PrintIterations();
        break;
    case "logdet-accuracy":
        LogDetAccuracy.Print();
        break;
    case "memory":
        PeakMemory.Print(args.Skip(1).ToArray());
        break;
    case "native-memory":
        NativeMemoryGrowth.Print(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000, args.Length > 2 ? args[2..] : null);
        break;
    case NativeMemoryGrowth.ChildCommand:
        NativeMemoryGrowth.RunChild(args.Skip(1).ToArray());
        break;
    case "side-by-side":
        Invertible.Benchmarks.SideBySide.SideBySideRun.Print(args.Skip(1).ToArray());
        break;
    case "anomaly-large":
        Environment.ExitCode = Invertible.Benchmarks.Tabular.LargeAnomaly.Command(args[1..]);
        break;
    case "fashion":
        Environment.ExitCode = Invertible.Benchmarks.Images.FashionMnist.Command(args[1..]);
        break;
    case "tabular":
        Environment.ExitCode = Invertible.Benchmarks.Tabular.SuiteRun.Command(args[1..]);
        break;
    case "streaming-memory":
        StreamingFitMemory.Print();
        break;
    case StreamingFitMemory.ChildCommand:
        StreamingFitMemory.RunChild(args.Skip(1).ToArray());
        break;
    case PeakMemory.ChildCommand:
        PeakMemory.RunChild(args.Skip(1).ToArray());
        break;
    default:
        BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, new QuickConfig());
        break;
}
