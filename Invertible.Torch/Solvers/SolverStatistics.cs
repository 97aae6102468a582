using System.Globalization;

namespace Invertible.Torch.Solvers;

/// <summary>What one fixed-point solve did. Every solver reports the same record.</summary>
/// <param name="Solver">The solver that ran.</param>
/// <param name="Iterations">Evaluations of f (every solver evaluates f once per iteration).</param>
/// <param name="RelativeResidual">Largest over the batch of each sample's best relative residual ‖f(x) − x‖ / ‖f(x)‖ of the iterate x whose image f(x) is returned (for a contraction the returned point's own residual is smaller still).</param>
/// <param name="Converged">Whether every sample reached the tolerance. False means the iteration cap was hit (or the iteration diverged).</param>
/// <param name="ResidualTrace">Per iteration, the largest relative residual over the batch of that iteration's iterate (length <paramref name="Iterations"/>).</param>
/// <param name="SampleResiduals">Per sample (length = batch size), the relative residual of the iterate behind the returned solution.</param>
/// <param name="Elapsed">Wall-clock time of the solve.</param>
/// <param name="SampleIterations">Per sample, the evaluations of f until its best iterate first met the tolerance (<paramref name="Iterations"/> for a sample that never did).</param>
/// <param name="SampleConverged">Per sample, whether it met the tolerance.</param>
public sealed record SolverStatistics(
    FixedPointSolverKind Solver,
    int Iterations,
    double RelativeResidual,
    bool Converged,
    IReadOnlyList<double> ResidualTrace,
    IReadOnlyList<double> SampleResiduals,
    TimeSpan Elapsed,
    IReadOnlyList<int> SampleIterations,
    IReadOnlyList<bool> SampleConverged)
{
    /// <summary>A one-line summary, e.g. "Anderson: converged in 12 iterations, residual 3.1e-07".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Solver}: {(Converged ? "converged" : "NOT converged")} in {Iterations} iterations, residual {RelativeResidual:0.##e+00}");
}
