using Invertible.Torch.Core;
using static TorchSharp.torch;

namespace Invertible.Torch.Solvers;

/// <summary>
/// Picard iteration x ← x + β (f(x) − x), β = <see cref="FixedPointOptions.Damping"/>. Converges linearly at rate
/// Lip(f) for a contraction (β = 1); damping helps maps that oscillate.
/// </summary>
public sealed class PicardSolver : FixedPointSolver
{
    /// <summary>Creates the solver; <see cref="FixedPointOptions.Solver"/> is ignored.</summary>
    public PicardSolver(FixedPointOptions? options = null) : base(options ?? new FixedPointOptions { Solver = FixedPointSolverKind.Picard }) { }

    /// <inheritdoc />
    protected override void Run(Func<Tensor, Tensor> f, Tensor x, Tracker tracker)
    {
        var beta = Options.Damping;
        while (true)
        {
            using var scope = NewDisposeScope();
            var fx = f(x);
            if (tracker.Record(x, fx))
                return;
            Step(x, fx, beta);
        }
    }

    /// <summary>x ← x + β (f(x) − x), in place (also the first phase of <see cref="AdaptiveSolver"/>).</summary>
    internal static void Step(Tensor x, Tensor fx, double damping)
    {
        if (damping == 1.0)
            x.copy_(fx);
        else
            x.AddInPlace(fx.sub(x), alpha: damping);
    }
}
