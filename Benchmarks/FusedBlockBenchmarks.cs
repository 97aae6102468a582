using BenchmarkDotNet.Attributes;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>
/// One Adam training step (training mode: one power iteration per layer) of a generic depth-2 block vs the fused
/// block with the same weights: d = 64, hidden 256, batch 256, float32. The loss is taken on the forward pass or on
/// the inverse (Picard to 1e-6 forward and adjoint).
/// </summary>
[BenchmarkDotNet.Attributes.WarmupCount(5), BenchmarkDotNet.Attributes.IterationCount(25)]
public class FusedBlockBenchmarks
{
    private nn.Module<Tensor, Tensor> generic = null!, fused = null!;
    private optim.Optimizer genericOptimizer = null!, fusedOptimizer = null!;
    private Tensor batch = null!;
    private readonly ImplicitOptions options = ImplicitOptions.Both(new FixedPointOptions { Solver = FixedPointSolverKind.Picard, Tolerance = 1e-6 });

    /// <summary>Builds both blocks with shared weights.</summary>
    [GlobalSetup]
    public void Setup()
    {
        manual_seed(3);
        generic = new ResidualBlock(64, new ResidualBlockOptions { HiddenFeatures = 256, Coefficient = 0.9, PowerIterations = 1 });
        fused = new FusedResidualBlock(64, 256, 0.9, powerIterations: 1);
        fused.load_state_dict(generic.state_dict());
        // lr = 0: Adam does the same arithmetic, and the weights (so the solver work) stay the same over thousands of steps.
        genericOptimizer = optim.Adam(generic.parameters(), 0.0);
        fusedOptimizer = optim.Adam(fused.parameters(), 0.0);
        batch = randn(256, 64);
    }

    private static void Step(nn.Module<Tensor, Tensor> block, optim.Optimizer optimizer, Func<Tensor> loss)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        loss().backward();
        optimizer.step();
    }

    /// <summary>Generic block, loss on y = F(x).</summary>
    [Benchmark(Baseline = true)]
    public void GenericForwardStep() => Step(generic, genericOptimizer, () => generic.call(batch).square().mean());

    /// <summary>Fused block, loss on y = F(x).</summary>
    [Benchmark]
    public void FusedForwardStep() => Step(fused, fusedOptimizer, () => fused.call(batch).square().mean());

    /// <summary>Generic block, loss on x = F⁻¹(y).</summary>
    [Benchmark]
    public void GenericInverseStep() => Step(generic, genericOptimizer, () => ((IInvertibleLayer)generic).Inverse(batch, options).square().mean());

    /// <summary>Fused block, loss on x = F⁻¹(y).</summary>
    [Benchmark]
    public void FusedInverseStep() => Step(fused, fusedOptimizer, () => ((IInvertibleLayer)fused).Inverse(batch, options).square().mean());
}
