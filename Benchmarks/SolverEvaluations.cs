using Invertible.Torch.Implicit;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>Evaluations of g each solver needs to reach 1e-6 (deterministic: no timing), as a Markdown table.</summary>
internal static class SolverEvaluations
{
    public static void Print()
    {
        Console.WriteLine("| block | c | Picard | Anderson | Broyden |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var kind in Enum.GetValues<BlockKind>())
        foreach (var coefficient in new[] { 0.5, 0.9, 0.97 })
        {
            var block = Models.Block(kind, 64, 64, coefficient);
            using var _ = no_grad();
            var output = block.forward(randn(256, 64)).detach();
            var counts = Enum.GetValues<FixedPointSolverKind>().Select(solver =>
            {
                var options = new ImplicitOptions { Forward = new FixedPointOptions { Solver = solver, Tolerance = 1e-6, MaxIterations = 5000 } };
                var stats = block.InverseWithStatistics(output, options).Solves[0].Forward;
                return stats.Converged ? stats.Iterations.ToString() : $"not converged ({stats.Iterations})";
            });
            Console.WriteLine($"| {kind} | {coefficient} | {string.Join(" | ", counts)} |");
        }
    }
}
