using static TorchSharp.torch;

namespace Invertible.Torch.Solvers;

/// <summary>Solves x = f(x) for a batch: dimension 0 of x indexes independent samples.</summary>
/// <remarks>
/// All solvers share this signature, evaluate f once per iteration, stop when every sample's relative residual
/// ‖f(x) − x‖ / ‖f(x)‖ is at most the tolerance or the iteration cap is hit, and return each sample's
/// lowest-residual iterate x — as f(x), one free Picard step
/// further, which for a contraction is closer to the fixed point. They never throw for non-convergence: they report it in <see cref="SolverStatistics"/>.
/// A row whose ‖f(x)‖ grows past 10⁶ times ‖x₀‖ + ‖f(x₀)‖ counts as diverged (a map without a fixed point can
/// drift to infinity while its relative residual shrinks). Solvers hold no per-solve state and may be shared. Call them under <c>torch.no_grad()</c> unless a tape is wanted.
/// </remarks>
public interface IFixedPointSolver
{
    /// <summary>The options the solver was created with.</summary>
    FixedPointOptions Options { get; }

    /// <summary>Solves x = f(x) starting from <paramref name="initial"/>.</summary>
    /// <param name="f">The map; must return a tensor of the same shape as its argument.</param>
    /// <param name="initial">Initial guess, shape [batch, ...], finite.</param>
    FixedPointResult Solve(Func<Tensor, Tensor> f, Tensor initial);
}
