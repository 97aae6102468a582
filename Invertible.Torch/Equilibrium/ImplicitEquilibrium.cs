using Invertible.Torch.Implicit;
using Invertible.Torch.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// z* = f(z*, x; θ) as a custom autograd function: the forward solve runs without a tape, and the backward either
/// solves the adjoint system u = v + J_f(z*)ᵀ u with VJPs of f (implicit) or takes u = v (Jacobian-free); then
/// ∂L/∂x = (∂f/∂x)ᵀ u and ∂L/∂θ = (∂f/∂θ)ᵀ u.
/// </summary>
internal static class ImplicitEquilibrium
{
    public static (Tensor State, ImplicitSolveStatistics Statistics) Solve(IEquilibriumFunction f, Tensor input, Tensor[] parameters,
        Tensor? initialState, EquilibriumOptions options, string what)
    {
        BackwardFailures.ThrowIfAny();
        Tensor[] inputs = [input, .. parameters];
        var call = new Call(f, options, what, initialState, inputs.Select(t => t.requires_grad).ToArray());
        if (!is_grad_enabled() || !inputs.Any(t => t.requires_grad))
        {
            using var _ = no_grad();
            return (call.SolveForward(inputs), call.Statistics!);
        }
        var state = EquilibriumFunction.apply([call, .. inputs])[0];
        return (state, call.Statistics!);
    }

    /// <summary>f with x moved into the parameter list, so that VJPs for x and θ come from one linearisation.</summary>
    private sealed class InjectedMap(IEquilibriumFunction f) : IFunctionalLayer
    {
        public int ParameterCount => throw new NotSupportedException();
        public IEnumerable<Tensor> EffectiveParameters() => throw new NotSupportedException();
        public Tensor Apply(Tensor state, ReadOnlySpan<Tensor> inputs) => f.Apply(state, inputs[0], inputs[1..]);
    }

    private sealed class Call(IEquilibriumFunction f, EquilibriumOptions options, string what, Tensor? initialState, bool[] trainable)
    {
        public ImplicitSolveStatistics? Statistics { get; private set; }

        public Tensor SolveForward(Tensor[] inputs)
        {
            var input = inputs[0];
            var start = initialState?.detach() ?? zeros([input.shape[0], f.StateFeatures], dtype: input.dtype, device: input.device);
            var map = new InjectedMap(f);
            var result = FixedPointSolver.Create(options.Forward).Solve(z => map.Apply(z, inputs), start);
            Statistics = new ImplicitSolveStatistics(what, result.Statistics);
            if (options.Forward.ThrowOnNonConvergence)
                result.EnsureConverged(what, options.Forward.Tolerance);
            return result.Solution;
        }

        /// <summary>The inputs as saved for backward: leaves as they are, others detached and flagged.</summary>
        public Tensor[] Save(Tensor[] inputs) => inputs.Select((t, i) => t.is_leaf ? t : t.detach().requires_grad_(trainable[i])).ToArray();

        public Tensor?[] Backward(Tensor state, Tensor[] inputs, Tensor v)
        {
            using var linearization = new AutogradLinearization(new InjectedMap(f), state, inputs);
            var u = v;
            if (options.Backward == EquilibriumBackward.Implicit)
            {
                FixedPointResult adjoint;
                using (no_grad())
                    adjoint = FixedPointSolver.Create(options.Adjoint).Solve(w => v.add(linearization.InputVjp(w)), v.detach());
                Statistics!.Backward = adjoint.Statistics;
                if (options.Adjoint.ThrowOnNonConvergence && !adjoint.Statistics.Converged)
                    BackwardFailures.Record(new SolverNotConvergedException("adjoint of the " + what, options.Adjoint.Tolerance, adjoint.Statistics));
                u = adjoint.Solution;
            }
            return linearization.ParameterVjp(u);
        }
    }

    private sealed class EquilibriumFunction : autograd.MultiTensorFunction<EquilibriumFunction>
    {
        public override string Name => "Equilibrium";

        public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var call = (Call)vars[0];
            var inputs = vars.Skip(1).Cast<Tensor>().ToArray();
            Tensor state;
            using (no_grad())
                state = call.SolveForward(inputs);
            ctx.save_data("call", call);
            ctx.save_data("point", (state.detach(), call.Save(inputs)));
            return [state];
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grads)
        {
            var (state, inputs) = ((Tensor, Tensor[]))ctx.get_data("point");
            var result = new List<Tensor>(1 + inputs.Length) { null! };
            try
            {
                result.AddRange(((Call)ctx.get_data("call")).Backward(state, inputs, grads[0]).Select(g => g!));
            }
            catch (Exception failure)
            {
                // Exceptions cannot cross libtorch's engine; see BackwardFailures.
                BackwardFailures.Record(failure);
                result.AddRange(inputs.Select(t => zeros_like(t)));
            }
            return result;
        }
    }
}
