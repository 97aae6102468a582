using Invertible.Torch.Core;
using Invertible.Torch.Solvers;

namespace Invertible.Torch.Implicit;

/// <summary>Solver options of an implicit layer: the forward solve and the adjoint solve of its backward pass.</summary>
public sealed record ImplicitOptions
{
    /// <summary>Options of the forward fixed-point solve. Default <see cref="FixedPointOptions.Default"/>.</summary>
    public FixedPointOptions Forward { get; init; } = FixedPointOptions.Default;

    /// <summary>Options of the adjoint fixed-point solve in backward. Default <see cref="FixedPointOptions.Default"/>.</summary>
    public FixedPointOptions Backward { get; init; } = FixedPointOptions.Default;

    /// <summary>Adaptive (Picard, then Anderson on slow contractions) forward and backward at tolerance 1e-6 (see <see cref="FixedPointOptions.Default"/>).</summary>
    public static ImplicitOptions Default { get; } = new();

    /// <summary>The same solver options for both solves.</summary>
    public static ImplicitOptions Both(FixedPointOptions options) => new() { Forward = options, Backward = options };

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.Required(Forward);
        OptionCheck.Required(Backward);
        Forward.Validate();
        Backward.Validate();
    }
}
