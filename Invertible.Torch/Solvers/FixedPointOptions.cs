using Invertible.Torch.Core;
namespace Invertible.Torch.Solvers;

/// <summary>Options of a fixed-point solve x = f(x). Every property has a documented default.</summary>
/// <remarks>
/// Convergence is measured per sample (rows of the batch): the solve has converged when every sample's best iterate has
/// ‖f(x) − x‖ ≤ <see cref="Tolerance"/> · ‖f(x)‖ + <see cref="AbsoluteTolerance"/>. The residual reported is
/// ‖f(x) − x‖ / (‖f(x)‖ + AbsoluteTolerance / Tolerance) — the relative residual when there is no absolute floor — so a
/// sample has converged exactly when it is at most <see cref="Tolerance"/>. A solve in which no unconverged sample
/// improves for 50 iterations stops as stalled (<see cref="SolverStatistics.Stalled"/>): its tolerance is below what the
/// arithmetic resolves.
/// </remarks>
public sealed record FixedPointOptions
{
    /// <summary>Default values.</summary>
    public static class Defaults
    {
        /// <summary>Default <see cref="FixedPointOptions.Solver"/>.</summary>
        public const FixedPointSolverKind Solver = FixedPointSolverKind.Adaptive;
        /// <summary>Default <see cref="FixedPointOptions.MaxIterations"/>.</summary>
        public const int MaxIterations = 500;
        /// <summary>Default <see cref="FixedPointOptions.Tolerance"/>.</summary>
        public const double Tolerance = 1e-6;
        /// <summary>Default <see cref="FixedPointOptions.Damping"/>.</summary>
        public const double Damping = 1.0;
        /// <summary>Default <see cref="FixedPointOptions.AndersonMemory"/>.</summary>
        public const int AndersonMemory = 5;
        /// <summary>Default <see cref="FixedPointOptions.AndersonRegularization"/>.</summary>
        public const double AndersonRegularization = 1e-4;
        /// <summary>Default <see cref="FixedPointOptions.AndersonMixing"/>.</summary>
        public const double AndersonMixing = 1.0;
        /// <summary>Default <see cref="FixedPointOptions.BroydenMemory"/>.</summary>
        public const int BroydenMemory = 30;
        /// <summary>Default <see cref="FixedPointOptions.ThrowOnNonConvergence"/>.</summary>
        public const bool ThrowOnNonConvergence = true;
    }

    /// <summary>Which solver to use. Default <see cref="FixedPointSolverKind.Adaptive"/>.</summary>
    public FixedPointSolverKind Solver { get; init; } = Defaults.Solver;

    /// <summary>Maximum evaluations of f. Default 500.</summary>
    public int MaxIterations { get; init; } = Defaults.MaxIterations;

    /// <summary>Target relative residual ‖f(x) − x‖ / ‖f(x)‖ of every sample. Default 1e-6.</summary>
    public double Tolerance { get; init; } = Defaults.Tolerance;

    /// <summary>
    /// Absolute floor added to the tolerance: a row has converged when ‖f(x) − x‖ ≤ Tolerance · ‖f(x)‖ + AbsoluteTolerance.
    /// Useful when a solution can be much smaller than the data it is computed from (float32 cannot resolve a relative
    /// 1e-6 of it). Default 0 (purely relative).
    /// </summary>
    public double AbsoluteTolerance { get; init; }

    /// <summary>Picard step size β in x ← x + β (f(x) − x), 0 &lt; β ≤ 1. Default 1 (no damping).</summary>
    public double Damping { get; init; } = Defaults.Damping;

    /// <summary>Anderson: number of past iterates mixed (m ≥ 1). Default 5.</summary>
    public int AndersonMemory { get; init; } = Defaults.AndersonMemory;

    /// <summary>
    /// Anderson: Tikhonov regularisation λ of the least-squares mixing problem, relative to the largest squared
    /// residual norm in memory (so it neither swamps the system near convergence nor vanishes for large inputs). Default 1e-4.
    /// </summary>
    public double AndersonRegularization { get; init; } = Defaults.AndersonRegularization;

    /// <summary>Anderson: mixing β between f-values (β = 1) and iterates (β = 0), 0 &lt; β ≤ 1. Default 1.</summary>
    public double AndersonMixing { get; init; } = Defaults.AndersonMixing;

    /// <summary>Broyden: number of rank-one updates kept (older ones are dropped). Default 30.</summary>
    public int BroydenMemory { get; init; } = Defaults.BroydenMemory;

    /// <summary>
    /// Whether layers that use the solver throw <see cref="SolverNotConvergedException"/> when it stops short of
    /// <see cref="Tolerance"/>. Solvers themselves never throw for this: they report it in <see cref="SolverStatistics"/>. Default true.
    /// </summary>
    public bool ThrowOnNonConvergence { get; init; } = Defaults.ThrowOnNonConvergence;

    /// <summary>The defaults: Anderson(m = 5, λ = 1e-4, β = 1), tolerance 1e-6, at most 500 evaluations.</summary>
    public static FixedPointOptions Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.Defined(Solver);
        OptionCheck.AtLeast(MaxIterations, 1);
        OptionCheck.NonNegative(Tolerance);
        OptionCheck.NonNegative(AbsoluteTolerance);
        OptionCheck.Within(Damping, 0, false, 1, true);
        OptionCheck.AtLeast(AndersonMemory, 1);
        OptionCheck.NonNegative(AndersonRegularization);
        OptionCheck.Within(AndersonMixing, 0, false, 1, true);
        OptionCheck.AtLeast(BroydenMemory, 1);
    }
}
