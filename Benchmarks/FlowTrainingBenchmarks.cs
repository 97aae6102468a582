using BenchmarkDotNet.Attributes;
using Invertible.Torch.Flows;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>
/// Training throughput of the digits flow (64 features, 8 blocks, hidden 256, Russian-roulette log-det with the
/// Neumann gradient): one Adam step on a batch of 128 dequantised rows. Samples/s = 128 / mean time.
/// </summary>
public class FlowTrainingBenchmarks
{
    private InvertibleResNetFlow flow = null!;
    private optim.Optimizer optimizer = null!;
    private Tensor batch = null!;

    /// <summary>Builds the flow and a batch of digits-like rows.</summary>
    [GlobalSetup]
    public void Setup()
    {
        manual_seed(4);
        flow = new InvertibleResNetFlow(64, new InvertibleResNetFlowOptions { Blocks = 8, HiddenFeatures = 256, Depth = 3, Coefficient = 0.97 });
        flow.Generator = new Generator(4);
        optimizer = optim.Adam(flow.parameters(), 0.0);
        batch = randint(0, 17, [128, 64]).to(ScalarType.Float32).add(rand(128, 64));
        flow.forward(batch);
    }

    /// <summary>One training step.</summary>
    [Benchmark]
    public void TrainingStep()
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        flow.LogProb(batch).mean().neg().backward();
        optimizer.step();
    }
}
