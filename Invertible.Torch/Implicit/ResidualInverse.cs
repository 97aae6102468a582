using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Torch.Implicit;

/// <summary>
/// Differentiable inverse of a residual map F(x) = x + g(x) with Lip(g) &lt; 1, by a fixed-point solve and
/// implicit differentiation.
/// </summary>
/// <remarks>
/// <para>Forward: x solves x = y − g(x), found with any <see cref="IFixedPointSolver"/> without an autograd tape.</para>
/// <para>Backward: by the inverse function theorem the vector–Jacobian product of F⁻¹ at y with v is
/// w = (I + J_g(x))⁻ᵀ v, the solution of w = v − J_g(x)ᵀ w; J_g(x)ᵀ w is a VJP of g, so the same solvers find w with
/// one VJP per iteration (<see cref="Linearization.Of"/>: the layer's hand-derived VJPs, or autograd on a one-step
/// tape of g at x). Then ∂L/∂y = w and ∂L/∂θ = −(∂g/∂θ)ᵀ w. Memory does not depend on how many forward iterations
/// were run.</para>
/// </remarks>
public static class ResidualInverse
{
    /// <summary>Solves x + g(x; θ) = y for x, differentiable in y and θ.</summary>
    /// <param name="g">The residual branch, evaluated as <c>g.Apply(x, parameters)</c> (no side effects).</param>
    /// <param name="output">y, shape [batch, ...].</param>
    /// <param name="parameters">θ: g's effective parameters; those that require grad receive gradients.</param>
    /// <param name="options">Forward and adjoint solver options.</param>
    /// <param name="what">Name of the solve for statistics and error messages.</param>
    /// <returns>x and the call's statistics (its <see cref="ImplicitSolveStatistics.Backward"/> fills in during backward).</returns>
    /// <exception cref="SolverNotConvergedException">The forward solve missed its tolerance and <see cref="FixedPointOptions.ThrowOnNonConvergence"/> is set.</exception>
    public static (Tensor Input, ImplicitSolveStatistics Statistics) Solve(IFunctionalLayer g, Tensor output,
        IReadOnlyList<Tensor> parameters, ImplicitOptions? options = null, string what = "inverse of a residual map")
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= ImplicitOptions.Default;
        options.Validate();
        var call = new Call(g, options, what);
        var input = call.Apply([output, .. parameters]);
        return (input, call.Statistics!);
    }

    private sealed class Call(IFunctionalLayer g, ImplicitOptions options, string what) : ImplicitFunction
    {
        public ImplicitSolveStatistics? Statistics { get; private set; }

        protected override Tensor Forward(Tensor[] inputs)
        {
            var y = inputs[0];
            var parameters = inputs[1..];
            var map = g is IResidualIterationMap fast ? fast.InverseIterationMap(y, parameters) : x => y.sub(g.Apply(x, parameters));
            var result = FixedPointSolver.Create(options.Forward).Solve(map, y.detach());
            Statistics = new ImplicitSolveStatistics(what, result.Statistics);
            if (options.Forward.ThrowOnNonConvergence)
                result.EnsureConverged(what, options.Forward.Tolerance);
            return result.Solution;
        }

        protected override Tensor?[] Backward(Tensor x, Tensor[] inputs, Tensor v)
        {
            using var linearization = Linearization.Of(g, x, inputs[1..]);
            FixedPointResult adjoint;
            using (no_grad())
                adjoint = FixedPointSolver.Create(options.Backward).Solve(linearization.AdjointIterationMap(v), v.detach());
            Statistics!.Backward = adjoint.Statistics;
            if (options.Backward.ThrowOnNonConvergence && !adjoint.Statistics.Converged)
                BackwardFailures.Record(new SolverNotConvergedException("adjoint of the " + what, options.Backward.Tolerance, adjoint.Statistics));
            var w = adjoint.Solution;
            return [w, .. linearization.ParameterVjp(w).Select(grad => grad?.neg())];
        }
    }
}
