using BenchmarkDotNet.Attributes;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>
/// The adaptive solver against Picard and Anderson: time to invert a block (d = 64, hidden 64, float32) to relative
/// residual 1e-6 at batch 1, 256 and 1024, on an easy random block and the hard aligned one.
/// </summary>
public class AdaptiveSolverBenchmarks
{
    private ResidualBlock block = null!;
    private Tensor output = null!;
    private ImplicitOptions options = null!;

    /// <summary>Solver under test.</summary>
    [Params(FixedPointSolverKind.Picard, FixedPointSolverKind.Anderson, FixedPointSolverKind.Adaptive)]
    public FixedPointSolverKind Solver { get; set; }

    /// <summary>Random (easy) or aligned (hard) weights, both at c = 0.97.</summary>
    [Params(BlockKind.Random, BlockKind.Hard)]
    public BlockKind Block { get; set; }

    /// <summary>Rows per solve.</summary>
    [Params(1, 256, 1024)]
    public int Batch { get; set; }

    /// <summary>Builds the block and the outputs to invert.</summary>
    [GlobalSetup]
    public void Setup()
    {
        block = Models.Block(Block, 64, 64, 0.97);
        using var _ = no_grad();
        output = block.forward(randn(Batch, 64)).detach();
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
