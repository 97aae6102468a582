using System.Globalization;

namespace Invertible.Torch.Solvers;

/// <summary>What one fixed-point solve did. Every solver reports the same record.</summary>
/// <param name="Solver">The solver that ran.</param>
/// <param name="Iterations">Evaluations of f (every solver evaluates f once per iteration).</param>
/// <param name="RelativeResidual">Largest over the batch of each sample's best residual of the iterate x whose image f(x) is returned (for a contraction the returned point's own residual is smaller still): ‖f(x) − x‖ / (‖f(x)‖ + AbsoluteTolerance / Tolerance), the relative residual ‖f(x) − x‖ / ‖f(x)‖ when there is no absolute floor, so a sample has converged exactly when its residual is at most Tolerance.</param>
/// <param name="Converged">Whether every sample reached the tolerance. False means the iteration cap was hit, the solve stalled (<see cref="Stalled"/>) or the iteration diverged.</param>
/// <param name="ResidualTrace">Per iteration, the largest residual over the batch of that iteration's iterate (length <paramref name="Iterations"/>).</param>
/// <param name="SampleResiduals">Per sample (length = batch size), the residual of the iterate behind the returned solution.</param>
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
    /// <summary>
    /// Whether the solve stopped before its iteration cap because no unconverged sample lowered its best residual in
    /// <see cref="FixedPointSolver.Tracker.StallWindow"/> evaluations: the residual had reached the rounding floor of the
    /// arithmetic (or the solver was stuck), so the tolerance could not be met by iterating longer.
    /// </summary>
    public bool Stalled { get; init; }

    /// <summary>The tensors' floating-point type, e.g. "float32" (empty when not recorded).</summary>
    public string Precision { get; init; } = "";

    /// <summary>A one-line summary, e.g. "Anderson: converged in 12 iterations, residual 3.1e-07".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Solver}: {(Converged ? "converged" : Stalled ? "NOT converged (stalled)" : "NOT converged")} in {Iterations} iterations, residual {RelativeResidual:0.##e+00}");
}
