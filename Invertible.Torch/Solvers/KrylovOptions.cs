using Invertible.Torch.Core;
namespace Invertible.Torch.Solvers;

/// <summary>Krylov methods for linear systems A x = b given only through products with A.</summary>
public enum KrylovMethod
{
    /// <summary>Conjugate gradient: A symmetric positive definite. The adjoint system uses A itself.</summary>
    ConjugateGradient,
    /// <summary>Restarted GMRES: any nonsingular A. The adjoint system uses Aᵀ, obtained by a vector–Jacobian product.</summary>
    Gmres,
}

/// <summary>Options of a matrix-free linear solve. Every property has a documented default.</summary>
public sealed class KrylovOptions
{
    /// <summary>The method. Default conjugate gradient.</summary>
    public KrylovMethod Method { get; init; } = KrylovMethod.ConjugateGradient;

    /// <summary>Target relative residual ‖b − A x‖ / ‖b‖ of every row. Default 1e-10.</summary>
    public double Tolerance { get; init; } = 1e-10;

    /// <summary>Maximum products with A. Default 1000.</summary>
    public int MaxIterations { get; init; } = 1000;

    /// <summary>GMRES: Krylov dimension before a restart. Default 50.</summary>
    public int Restart { get; init; } = 50;

    /// <summary>Throw <see cref="KrylovNotConvergedException"/> when the tolerance is missed. Default true.</summary>
    public bool ThrowOnNonConvergence { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.Defined(Method);
        OptionCheck.NonNegative(Tolerance);
        OptionCheck.AtLeast(MaxIterations, 1);
        OptionCheck.AtLeast(Restart, 1);
    }
}

/// <summary>What one Krylov solve did.</summary>
/// <param name="Method">The method.</param>
/// <param name="Iterations">Products with A (or Aᵀ).</param>
/// <param name="RelativeResidual">Largest over the rows of ‖b − A x‖ / ‖b‖.</param>
/// <param name="Converged">Whether every row reached the tolerance.</param>
public sealed record KrylovStatistics(KrylovMethod Method, int Iterations, double RelativeResidual, bool Converged)
{
    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant(
        $"{Method}: {(Converged ? "converged" : "NOT converged")} in {Iterations} iterations, residual {RelativeResidual:0.##e+00}");
}

/// <summary>A Krylov solve stopped before reaching its tolerance.</summary>
public sealed class KrylovNotConvergedException(string what, KrylovStatistics statistics)
    : Exception(FormattableString.Invariant($"The {statistics.Method} solve for {what} did not converge: relative residual {statistics.RelativeResidual:0.###e+00} after {statistics.Iterations} iterations. ") +
        "Raise MaxIterations, check that A is nonsingular (and symmetric positive definite for conjugate gradient), or precondition the system.")
{
    /// <summary>The statistics of the failed solve.</summary>
    public KrylovStatistics Statistics { get; } = statistics;
}
