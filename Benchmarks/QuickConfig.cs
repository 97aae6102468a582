using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Invertible.Benchmarks;

/// <summary>One launch, 3 warm-ups, 10 measured iterations: enough to compare configurations within one run.</summary>
internal sealed class QuickConfig : ManualConfig
{
    public QuickConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10));
        Add(DefaultConfig.Instance);
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
