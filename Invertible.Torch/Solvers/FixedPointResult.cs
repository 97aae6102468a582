using static TorchSharp.torch;

namespace Invertible.Torch.Solvers;

/// <summary>The solution of a fixed-point solve (f at the lowest-residual iterate of each sample) and its statistics.</summary>
/// <param name="Solution">Same shape as the initial guess.</param>
/// <param name="Statistics">Iterations, residuals, convergence.</param>
public sealed record FixedPointResult(Tensor Solution, SolverStatistics Statistics)
{
    /// <summary>Throws <see cref="SolverNotConvergedException"/> unless the solve converged.</summary>
    /// <param name="what">What was being solved, for the message (e.g. "inverse of residual block 3").</param>
    /// <param name="tolerance">The tolerance that was asked for.</param>
    public FixedPointResult EnsureConverged(string what, double tolerance)
    {
        if (!Statistics.Converged)
            throw new SolverNotConvergedException(what, tolerance, Statistics);
        return this;
    }
}
