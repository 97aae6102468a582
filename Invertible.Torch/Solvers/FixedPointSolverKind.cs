namespace Invertible.Torch.Solvers;

/// <summary>The fixed-point solvers behind <see cref="IFixedPointSolver"/>.</summary>
public enum FixedPointSolverKind
{
    /// <summary>Plain (optionally damped) iteration x ← x + β (f(x) − x).</summary>
    Picard,
    /// <summary>Anderson acceleration: the next iterate mixes the last m evaluations by least squares.</summary>
    Anderson,
    /// <summary>Limited-memory ("good") Broyden quasi-Newton on the residual f(x) − x.</summary>
    Broyden,
    /// <summary>
    /// Picard while it is fast, Anderson once the observed contraction says Picard would need many more iterations:
    /// plain iterations' cost on easy maps, acceleration on hard ones.
    /// </summary>
    Adaptive,
}
