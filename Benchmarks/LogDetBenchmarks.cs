using BenchmarkDotNet.Attributes;
using Invertible.Torch.Layers;
using Invertible.Torch.LogDet;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>The log-determinant estimators compared in cost and accuracy.</summary>
public enum LogDetEstimatorKind
{
    /// <summary>Dense Jacobian and slogdet.</summary>
    Exact,
    /// <summary>Hutchinson power series, 2 terms.</summary>
    Series2,
    /// <summary>Hutchinson power series, 5 terms.</summary>
    Series5,
    /// <summary>Hutchinson power series, 10 terms.</summary>
    Series10,
    /// <summary>Russian roulette (2 exact terms, p = 0.5).</summary>
    Roulette,
}

/// <summary>Shared set-up of the log-determinant benchmarks: a residual branch (hidden 64, depth 2, c = 0.9) in evaluation mode.</summary>
internal static class LogDetSetup
{
    public static ILogDetEstimator Estimator(LogDetEstimatorKind kind) => (kind switch
    {
        LogDetEstimatorKind.Exact => LogDetOptions.Exact,
        LogDetEstimatorKind.Series2 => new LogDetOptions { Method = LogDetMethod.PowerSeries, Terms = 2 },
        LogDetEstimatorKind.Series5 => new LogDetOptions { Method = LogDetMethod.PowerSeries, Terms = 5 },
        LogDetEstimatorKind.Series10 => new LogDetOptions { Method = LogDetMethod.PowerSeries, Terms = 10 },
        _ => new LogDetOptions { Method = LogDetMethod.RussianRoulette },
    }).CreateEstimator();

    public static (ContractiveMlp G, Tensor[] Parameters, Tensor Input) Branch(int features)
    {
        manual_seed(5);
        var g = new ContractiveMlp(features, 64, 2, 0.9);
        g.eval();
        return (g, g.EffectiveParameters().Select(p => p.detach()).ToArray(), randn(256, features));
    }
}

/// <summary>Time of one log-determinant evaluation (batch 256, no gradient).</summary>
public class LogDetBenchmarks
{
    private ILogDetEstimator estimator = null!;
    private ContractiveMlp g = null!;
    private Tensor[] parameters = null!;
    private Tensor input = null!;

    /// <summary>Estimator under test.</summary>
    [Params(LogDetEstimatorKind.Exact, LogDetEstimatorKind.Series2, LogDetEstimatorKind.Series5, LogDetEstimatorKind.Series10, LogDetEstimatorKind.Roulette)]
    public LogDetEstimatorKind Estimator { get; set; }

    /// <summary>Features d.</summary>
    [Params(2, 16, 64)]
    public int Features { get; set; }

    /// <summary>Builds the branch.</summary>
    [GlobalSetup]
    public void Setup()
    {
        estimator = LogDetSetup.Estimator(Estimator);
        (g, parameters, input) = LogDetSetup.Branch(Features);
    }

    /// <summary>One evaluation.</summary>
    [Benchmark]
    public void Evaluate()
    {
        using var scope = NewDisposeScope();
        estimator.Evaluate(g, input, parameters, differentiable: false);
    }
}

/// <summary>Accuracy of each estimator: mean absolute error against the exact log-determinant and its per-row spread.</summary>
internal static class LogDetAccuracy
{
    public static void Print()
    {
        Console.WriteLine("| d | estimator | mean abs error (nats/row) | bias | std of one estimate |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var features in new[] { 2, 16, 64 })
        {
            var (g, parameters, input) = LogDetSetup.Branch(features);
            using var _ = no_grad();
            var exact = LogDetSetup.Estimator(LogDetEstimatorKind.Exact).Evaluate(g, input, parameters, false).LogDet.to(ScalarType.Float64);
            foreach (var kind in Enum.GetValues<LogDetEstimatorKind>().Skip(1))
            {
                var estimator = LogDetSetup.Estimator(kind);
                var draws = stack(Enumerable.Range(0, 50).Select(_ => estimator.Evaluate(g, input, parameters, false).LogDet.to(ScalarType.Float64)).ToArray());
                var errors = draws.sub(exact);
                Console.WriteLine($"| {features} | {kind} | {errors.abs().mean().ToDouble():0.0000} | {errors.mean().ToDouble():+0.0000;-0.0000} | {errors.std(0).mean().ToDouble():0.0000} |");
            }
        }
    }
}
