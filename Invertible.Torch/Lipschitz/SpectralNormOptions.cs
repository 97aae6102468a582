using Invertible.Torch.Core;
namespace Invertible.Torch.Lipschitz;

/// <summary>Stopping rule of the power iteration behind <see cref="SpectralNorm"/>.</summary>
/// <remarks>
/// The iteration stops when both singular-pair residuals ‖A v − σ u‖ and ‖Aᵀ u − σ v‖ are at most
/// <c>RelativeTolerance · ‖σ u‖ + AbsoluteTolerance</c>, or after <see cref="MaxIterations"/> iterations.
/// </remarks>
public sealed class SpectralNormOptions
{
    /// <summary>Default values.</summary>
    public static class Defaults
    {
        /// <summary>Default <see cref="SpectralNormOptions.MaxIterations"/>.</summary>
        public const int MaxIterations = 1000;
        /// <summary>Default <see cref="SpectralNormOptions.RelativeTolerance"/>.</summary>
        public const double RelativeTolerance = 1e-6;
        /// <summary>Default <see cref="SpectralNormOptions.AbsoluteTolerance"/>.</summary>
        public const double AbsoluteTolerance = 1e-6;
    }

    /// <summary>Upper bound on power iterations (each costs one product with A and one with Aᵀ). Default 1000.</summary>
    public int MaxIterations { get; init; } = Defaults.MaxIterations;

    /// <summary>Relative part of the residual tolerance. Default 1e-6.</summary>
    public double RelativeTolerance { get; init; } = Defaults.RelativeTolerance;

    /// <summary>Absolute part of the residual tolerance. Default 1e-6.</summary>
    public double AbsoluteTolerance { get; init; } = Defaults.AbsoluteTolerance;

    /// <summary>
    /// When false the residuals are not computed and exactly <see cref="MaxIterations"/> iterations run: the mode of
    /// a layer that refines its singular vectors by a few iterations per training step. Default true.
    /// </summary>
    public bool CheckConvergence { get; init; } = true;

    /// <summary>The default options (the notebook's stopping rule).</summary>
    public static SpectralNormOptions Default { get; } = new();

    /// <summary>Exactly <paramref name="iterations"/> iterations without a convergence test.</summary>
    public static SpectralNormOptions FixedIterations(int iterations) => new() { MaxIterations = iterations, CheckConvergence = false };

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.AtLeast(MaxIterations, 1);
        OptionCheck.NonNegative(RelativeTolerance);
        OptionCheck.NonNegative(AbsoluteTolerance);
    }
}
