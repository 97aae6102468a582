using BenchmarkDotNet.Attributes;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>How the gradient of a block's inverse is obtained.</summary>
public enum BackwardMode
{
    /// <summary>Adjoint fixed-point solve with VJPs of g (no tape through the forward iterations).</summary>
    Implicit,
    /// <summary>Autograd through every forward iteration.</summary>
    Unrolled,
}

/// <summary>Forward (a fixed number of Picard iterations) plus backward of a block's inverse: d = 64, hidden 256, batch 256.</summary>
public class InverseBackwardBenchmarks
{
    private InverseBackwardStep step = null!;

    /// <summary>Implicit or unrolled.</summary>
    [Params(BackwardMode.Implicit, BackwardMode.Unrolled)]
    public BackwardMode Mode { get; set; }

    /// <summary>Forward fixed-point iterations.</summary>
    [Params(10, 100)]
    public int ForwardIterations { get; set; }

    /// <summary>Builds the block.</summary>
    [GlobalSetup]
    public void Setup() => step = new InverseBackwardStep(Mode, ForwardIterations);

    /// <summary>Forward and backward once.</summary>
    [Benchmark]
    public void ForwardAndBackward() => step.Run();
}

/// <summary>One forward + backward of the inverse, shared by the timing benchmark and the peak-memory harness.</summary>
internal sealed class InverseBackwardStep
{
    private readonly BackwardMode mode;
    private readonly int iterations;
    private readonly ResidualBlock block;
    private readonly Tensor output;
    private readonly ImplicitOptions options;

    public InverseBackwardStep(BackwardMode mode, int iterations)
    {
        this.mode = mode;
        this.iterations = iterations;
        block = Models.Block(BlockKind.Random, 64, 256, 0.9);
        output = randn(256, 64).requires_grad_(true);
        options = new ImplicitOptions
        {
            Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, MaxIterations = iterations, Tolerance = 0, ThrowOnNonConvergence = false },
            Backward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, Tolerance = 1e-6 },
        };
    }

    public void Run()
    {
        using var scope = NewDisposeScope();
        Tensor input;
        if (mode == BackwardMode.Implicit)
        {
            input = block.Inverse(output, options);
        }
        else
        {
            var parameters = block.Residual.EffectiveParameters().ToArray();
            input = output;
            for (var i = 0; i < iterations; i++)
                input = output - block.Residual.Apply(input, parameters);
        }
        input.square().sum().backward();
        output.grad?.zero_();
        foreach (var p in block.parameters())
            p.grad?.zero_();
    }
}
