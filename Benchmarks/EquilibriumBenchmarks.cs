using Invertible.Torch.Lipschitz;
using BenchmarkDotNet.Attributes;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Solvers;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Invertible.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>
/// One forward solve (a fixed number of Picard iterations) plus backward of an equilibrium layer (state 128,
/// input 64, batch 256): implicit adjoint solve vs autograd through every iteration.
/// </summary>
public class EquilibriumBackwardBenchmarks
{
    private EquilibriumBackwardStep step = null!;

    /// <summary>Implicit or unrolled.</summary>
    [Params(BackwardMode.Implicit, BackwardMode.Unrolled)]
    public BackwardMode Mode { get; set; }

    /// <summary>Forward iterations.</summary>
    [Params(10, 50, 100)]
    public int ForwardIterations { get; set; }

    /// <summary>Builds the layer.</summary>
    [GlobalSetup]
    public void Setup() => step = new EquilibriumBackwardStep(Mode, ForwardIterations);

    /// <summary>Forward and backward once.</summary>
    [Benchmark]
    public void ForwardAndBackward() => step.Run();
}

/// <summary>Shared by the timing benchmark and the peak-memory harness.</summary>
internal sealed class EquilibriumBackwardStep
{
    private readonly BackwardMode mode;
    private readonly int iterations;
    private readonly EquilibriumLayer layer;
    private readonly Tensor input;

    public EquilibriumBackwardStep(BackwardMode mode, int iterations)
    {
        this.mode = mode;
        this.iterations = iterations;
        manual_seed(6);
        var cell = new EquilibriumCell(128, 64, 0.9);
        cell.eval();
        layer = new EquilibriumLayer(cell, new EquilibriumOptions
        {
            Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, MaxIterations = iterations, Tolerance = 0, ThrowOnNonConvergence = false },
            Adjoint = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, Tolerance = 1e-5 },
        });
        input = randn(256, 64).requires_grad_(true);
    }

    public void Run()
    {
        using var scope = NewDisposeScope();
        Tensor state;
        if (mode == BackwardMode.Implicit)
        {
            state = layer.forward(input);
        }
        else
        {
            var parameters = layer.Function.EffectiveParameters().ToArray();
            state = zeros(256, 128);
            for (var i = 0; i < iterations; i++)
                state = layer.Function.Apply(state, input, parameters);
        }
        state.square().sum().backward();
        input.grad?.zero_();
        foreach (var p in layer.parameters())
            p.grad?.zero_();
    }
}

/// <summary>Forward solve of the equilibrium layer to relative residual 1e-5 (state 128, input 64, batch 256).</summary>
public class EquilibriumSolverBenchmarks
{
    private EquilibriumLayer layer = null!;
    private Tensor input = null!;

    /// <summary>Solver under test.</summary>
    [Params(FixedPointSolverKind.Picard, FixedPointSolverKind.Anderson, FixedPointSolverKind.Broyden)]
    public FixedPointSolverKind Solver { get; set; }

    /// <summary>Builds the layer.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (layer, input) = EquilibriumSolverSetup.Create(Solver);
    }

    /// <summary>One forward solve.</summary>
    [Benchmark]
    public void Solve()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        layer.forward(input);
    }
}

/// <summary>
/// The equilibrium layer the solver comparison uses: a hard contraction. W is symmetric with eigenvalues spread over
/// [−0.99, 0.99] (so its spectral radius equals its norm) and the inputs are small, keeping tanh near its linear
/// range: J_f ≈ W, and Picard contracts at rate 0.99.
/// </summary>
internal static class EquilibriumSolverSetup
{
    public static (EquilibriumLayer Layer, Tensor Input) Create(FixedPointSolverKind solver)
    {
        manual_seed(8);
        var cell = new EquilibriumCell(128, 64, 0.99);
        using (no_grad())
        {
            var q = linalg.qr(randn(128, 128)).Item1;
            cell.parameters().First().copy_(q.mm(diag(linspace(-1, 1, 128))).mm(q.t()));
        }
        cell.eval();
        var layer = new EquilibriumLayer(cell, new EquilibriumOptions { Forward = new FixedPointOptions { Solver = solver, Tolerance = 1e-5, MaxIterations = 5000 } });
        return (layer, randn(256, 64).mul(0.1));
    }

    public static void PrintIterations()
    {
        Console.WriteLine("| solver | forward iterations to 1e-5 |");
        Console.WriteLine("|---|---|");
        foreach (var solver in Enum.GetValues<FixedPointSolverKind>())
        {
            var (layer, input) = Create(solver);
            using var _ = no_grad();
            Console.WriteLine($"| {solver} | {layer.Solve(input).Statistics.Forward.Iterations} |");
        }
    }
}

/// <summary>
/// Training throughput of the digits equilibrium classifier (64 → state 64 → 10, implicit backward): one Adam step on
/// a batch of 64 standardised rows. Samples/s = 64 / mean time.
/// </summary>
public class EquilibriumTrainingBenchmarks
{
    private EquilibriumNetwork network = null!;
    private optim.Optimizer optimizer = null!;
    private Tensor features = null!, labels = null!;

    /// <summary>Builds the network and a batch.</summary>
    [GlobalSetup]
    public void Setup()
    {
        manual_seed(10);
        network = new EquilibriumNetwork(64, 10, SupervisedTask.MulticlassClassification, new EquilibriumNetworkOptions { Coefficient = 0.9, Activation = LipschitzActivation.Tanh, Equilibrium = new EquilibriumOptions() });
        optimizer = optim.Adam(network.parameters(), 0.0);
        features = randn(64, 64);
        labels = randint(0, 10, [64]);
    }

    /// <summary>One training step.</summary>
    [Benchmark]
    public void TrainingStep()
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        SupervisedObjective.Loss(network, features, labels).backward();
        optimizer.step();
    }
}
