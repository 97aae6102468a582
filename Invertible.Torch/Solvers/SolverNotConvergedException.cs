using System.Globalization;

namespace Invertible.Torch.Solvers;

/// <summary>A fixed-point solve stopped before reaching its tolerance.</summary>
public sealed class SolverNotConvergedException : Exception
{
    /// <summary>Creates the exception from the solve's statistics.</summary>
    public SolverNotConvergedException(string what, double tolerance, SolverStatistics statistics)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"The {statistics.Solver} solve for the {what} did not converge: relative residual {statistics.RelativeResidual:0.###e+00} after {statistics.Iterations} iterations (tolerance {tolerance:0.###e+00}). ") + Advice)
    {
        Statistics = statistics;
        Tolerance = tolerance;
    }

    private const string Advice = "Raise MaxIterations, loosen Tolerance, try another solver, or lower the Lipschitz coefficient; " +
        "set ThrowOnNonConvergence = false to accept the best iterate.";

    /// <summary>The statistics of the failed solve.</summary>
    public SolverStatistics Statistics { get; }

    /// <summary>The tolerance that was asked for.</summary>
    public double Tolerance { get; }
}
