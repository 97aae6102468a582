using Invertible.Torch.Core;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Torch.Implicit;

/// <summary>A map z ↦ f(z; inputs) evaluated without side effects (backward passes evaluate it again).</summary>
public delegate Tensor StateMap(Tensor state, ReadOnlySpan<Tensor> inputs);

/// <summary>
/// The fixed point z* = f(z*; u) of a map with inputs u (an injected x and parameters θ), differentiable in u: the
/// forward solve runs without a tape; the backward either solves the adjoint system w = v + J_f(z*)ᵀ w with VJPs of f
/// (implicit differentiation, exact at the fixed point) or takes w = v (Jacobian-free); then ∂L/∂u = (∂f/∂u)ᵀ w.
/// </summary>
public static class ImplicitFixedPoint
{
    /// <summary>Solves z = f(z; inputs) from <paramref name="initialState"/>.</summary>
    /// <param name="f">The map.</param>
    /// <param name="initialState">z₀, [batch, state].</param>
    /// <param name="inputs">u: the tensors f depends on; those that require grad receive gradients.</param>
    /// <param name="forward">Forward solver options.</param>
    /// <param name="adjoint">Adjoint solver options, or null for the Jacobian-free backward.</param>
    /// <param name="what">Name of the solve for statistics and error messages.</param>
    /// <exception cref="SolverNotConvergedException">The forward solve missed its tolerance and <see cref="FixedPointOptions.ThrowOnNonConvergence"/> is set.</exception>
    /// <param name="iterationMap">Optional: builds, from the inputs, the map the forward solve iterates (the same function
    /// as <paramref name="f"/>, possibly with precomputed parts); backward passes always use <paramref name="f"/>.</param>
    public static (Tensor State, ImplicitSolveStatistics Statistics) Solve(StateMap f, Tensor initialState, IReadOnlyList<Tensor> inputs,
        FixedPointOptions forward, FixedPointOptions? adjoint, string what, Func<Tensor[], Func<Tensor, Tensor>>? iterationMap = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(initialState);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(forward);
        forward.Validate();
        adjoint?.Validate();
        var call = new Call(new MapLayer(f), initialState, forward, adjoint, what, iterationMap);
        var state = call.Apply([.. inputs]);
        return (state, call.Statistics!);
    }

    /// <summary>f as a functional layer of the state, its inputs in the parameter list: VJPs for all of them come from
    /// one linearisation.</summary>
    private sealed class MapLayer(StateMap f) : IFunctionalLayer
    {
        public int ParameterCount => throw new NotSupportedException();
        public IEnumerable<Tensor> EffectiveParameters() => throw new NotSupportedException();
        public Tensor Apply(Tensor state, ReadOnlySpan<Tensor> inputs) => f(state, inputs);
    }

    private sealed class Call(MapLayer f, Tensor initialState, FixedPointOptions forward, FixedPointOptions? adjoint, string what,
        Func<Tensor[], Func<Tensor, Tensor>>? iterationMap) : ImplicitFunction
    {
        public ImplicitSolveStatistics? Statistics { get; private set; }

        protected override Tensor Forward(Tensor[] inputs)
        {
            var map = iterationMap?.Invoke(inputs) ?? (z => f.Apply(z, inputs));
            var result = FixedPointSolver.Create(forward).Solve(map, initialState.detach());
            Statistics = new ImplicitSolveStatistics(what, result.Statistics);
            if (forward.ThrowOnNonConvergence)
                result.EnsureConverged(what, forward.Tolerance);
            return result.Solution;
        }

        protected override Tensor?[] Backward(Tensor state, Tensor[] inputs, Tensor v)
        {
            using var linearization = new AutogradLinearization(f, state, inputs);
            var w = v;
            if (adjoint is not null)
            {
                FixedPointResult solve;
                using (no_grad())
                    solve = FixedPointSolver.Create(adjoint).Solve(u => v.Add(linearization.InputVjp(u)), v.detach());
                Statistics!.Backward = solve.Statistics;
                if (adjoint.ThrowOnNonConvergence && !solve.Statistics.Converged)
                    BackwardFailures.Record(new SolverNotConvergedException("adjoint of the " + what, adjoint.Tolerance, solve.Statistics));
                w = solve.Solution;
            }
            return linearization.ParameterVjp(w);
        }
    }
}
