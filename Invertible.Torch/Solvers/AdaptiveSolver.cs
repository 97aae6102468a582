using static TorchSharp.torch;

namespace Invertible.Torch.Solvers;

/// <summary>
/// Picard iteration while the map contracts fast; Anderson acceleration from the current iterate once the observed
/// contraction predicts many more Picard steps.
/// </summary>
/// <remarks>
/// After each Picard step the worst relative residual of the rows still open, r_k, gives the observed rate
/// ρ = r_k / r_{k−1}; Picard would need about log(tol / r_k) / log ρ more steps. When that exceeds
/// <see cref="SwitchAfterPredictedSteps"/> (or ρ ≥ 1), the remaining work goes to Anderson, whose iteration costs a few
/// Picard steps but whose count hardly grows with Lip(f). Easy maps (a handful of steps) never switch and pay only
/// Picard's price; hard ones pay three Picard steps before accelerating.
/// </remarks>
public sealed class AdaptiveSolver : FixedPointSolver
{
    /// <summary>Predicted remaining Picard steps above which the solver switches to Anderson.</summary>
    public const int SwitchAfterPredictedSteps = 12;

    /// <summary>Picard steps observed before the rate is trusted.</summary>
    private const int ObservedSteps = 3;

    /// <summary>Creates the solver; <see cref="FixedPointOptions.Solver"/> is ignored.</summary>
    public AdaptiveSolver(FixedPointOptions? options = null) : base(options ?? new FixedPointOptions { Solver = FixedPointSolverKind.Adaptive }) { }

    /// <inheritdoc />
    protected override void Run(Func<Tensor, Tensor> f, Tensor x, Tracker tracker)
    {
        var beta = Options.Damping;
        var previous = double.NaN;
        for (var step = 1; ; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var fx = f(x);
                if (tracker.Record(x, fx))
                    return;
                PicardSolver.Step(x, fx, beta);
            }
            var residual = tracker.LastUnconvergedResidual;
            if (step >= ObservedSteps && PicardIsSlow(previous, residual, tracker.LastGap))
                break;
            previous = residual;
        }
        AndersonSolver.Iterate(f, x, tracker, Options);
    }

    // gap: how many times above its target the worst open row's residual is (absolute floor included).
    private static bool PicardIsSlow(double previous, double residual, double gap)
    {
        if (!(residual > 0) || !(previous > 0))
            return false;
        var rate = residual / previous;
        if (!(rate < 1))
            return true;
        var remaining = Math.Log(gap) / -Math.Log(rate);
        return remaining > SwitchAfterPredictedSteps;
    }
}
