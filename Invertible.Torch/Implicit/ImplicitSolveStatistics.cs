using Invertible.Torch.Solvers;

namespace Invertible.Torch.Implicit;

/// <summary>Statistics of one implicit call: the forward solve, and the adjoint solve once backward has run.</summary>
public sealed class ImplicitSolveStatistics
{
    internal ImplicitSolveStatistics(string what, SolverStatistics forward)
    {
        What = what;
        Forward = forward;
    }

    /// <summary>What was solved, e.g. "inverse of residual block 2".</summary>
    public string What { get; }

    /// <summary>The forward solve.</summary>
    public SolverStatistics Forward { get; }

    /// <summary>The adjoint solve, or null until a backward pass has gone through this call.</summary>
    public SolverStatistics? Backward { get; internal set; }

    /// <inheritdoc />
    public override string ToString() => $"{What}: forward {Forward}" + (Backward is null ? "" : $"; backward {Backward}");
}
