namespace Invertible.Cli;

/// <summary>What <c>train</c> fits: a density (flow transform), a classifier or a regressor (deep equilibrium).</summary>
internal enum ModelKind
{
    Flow,
    Classifier,
    Regressor,
}
