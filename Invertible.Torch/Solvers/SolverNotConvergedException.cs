using System.Globalization;

namespace Invertible.Torch.Solvers;

/// <summary>A fixed-point solve stopped before reaching its tolerance.</summary>
public sealed class SolverNotConvergedException : Exception
{
    /// <summary>Creates the exception from the solve's statistics.</summary>
    public SolverNotConvergedException(string what, double tolerance, SolverStatistics statistics)
        : base(Describe(what, tolerance, statistics))
    {
        Statistics = statistics;
        Tolerance = tolerance;
    }

    private static string Describe(string what, double tolerance, SolverStatistics statistics)
    {
        var head = string.Create(CultureInfo.InvariantCulture,
            $"The {statistics.Solver} solve for the {what} did not converge: relative residual {statistics.RelativeResidual:0.###e+00} after {statistics.Iterations} iterations (tolerance {tolerance:0.###e+00}). ");
        if (!statistics.Stalled)
            return head + Advice;
        var resolution = statistics.Precision == "float32" ? FloatResolution : statistics.Precision == "float64" ? DoubleResolution : 0;
        return head + string.Create(CultureInfo.InvariantCulture, $"It stalled: no sample's residual improved in its last {FixedPointSolver.Tracker.StallWindow} iterations. ") +
            (resolution > 0 && statistics.RelativeResidual < 1e3 * resolution
                ? string.Create(CultureInfo.InvariantCulture,
                    $"The tolerance is below what {statistics.Precision} resolves for this map (its rounding is {resolution:0.#e+00} relative, and the residual stopped at {statistics.RelativeResidual:0.###e+00}): loosen Tolerance above the residual it stalled at, or solve in float64.")
                : "Try another solver or lower the Lipschitz coefficient; set ThrowOnNonConvergence = false to accept the best iterate.");
    }

    // Unit roundoffs: half the distance from 1 to the next number of the type.
    private const double FloatResolution = 5.96e-8, DoubleResolution = 1.11e-16;

    private const string Advice = "Raise MaxIterations, loosen Tolerance, try another solver, or lower the Lipschitz coefficient; " +
        "set ThrowOnNonConvergence = false to accept the best iterate.";

    /// <summary>The statistics of the failed solve.</summary>
    public SolverStatistics Statistics { get; }

    /// <summary>The tolerance that was asked for.</summary>
    public double Tolerance { get; }
}
