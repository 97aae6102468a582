using BenchmarkDotNet.Attributes;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>Time to invert a residual block (d = 64, batch 256, float32) to relative residual 1e-6.</summary>
public class SolverBenchmarks
{
    private ResidualBlock block = null!;
    private Tensor output = null!;
    private ImplicitOptions options = null!;

    /// <summary>Solver under test.</summary>
    [Params(FixedPointSolverKind.Picard, FixedPointSolverKind.Anderson, FixedPointSolverKind.Broyden)]
    public FixedPointSolverKind Solver { get; set; }

    /// <summary>Lipschitz coefficient of each linear layer.</summary>
    [Params(0.5, 0.9, 0.97)]
    public double Coefficient { get; set; }

    /// <summary>Random or aligned (hard) weights.</summary>
    [Params(BlockKind.Random, BlockKind.Hard)]
    public BlockKind Block { get; set; }

    /// <summary>Builds the block and a batch of outputs to invert.</summary>
    [GlobalSetup]
    public void Setup()
    {
        block = Models.Block(Block, 64, 64, Coefficient);
        using var _ = no_grad();
        output = block.forward(randn(256, 64)).detach();
        options = new ImplicitOptions { Forward = new FixedPointOptions { Solver = Solver, Tolerance = 1e-6, MaxIterations = 5000 } };
    }

    /// <summary>One inverse to 1e-6.</summary>
    [Benchmark]
    public void Invert()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        block.Inverse(output, options);
    }
}
