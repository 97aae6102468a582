using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using TorchSharp.Utils;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// A deep-equilibrium layer: its output is the fixed point z* = f(z*, x; θ), found without an autograd tape
/// (<see cref="ImplicitFixedPoint"/>), and differentiated implicitly, by a phantom gradient, or Jacobian-free
/// (<see cref="EquilibriumBackward"/>).
/// </summary>
/// <remarks>The layer keeps no per-call state in evaluation mode, so one layer can serve several threads; with
/// <see cref="EquilibriumOptions.WarmStart"/> a training step starts from the previous training step's solution.</remarks>
public sealed class EquilibriumLayer : nn.Module<Tensor, Tensor>
{
    // Named as registered, so that a parent's RegisterComponents does not register f a second time as "function".
    [ComponentName(Name = "f")]
    private readonly IEquilibriumFunction function;
    private Tensor? previousState;

    /// <summary>Wraps f (registered as a submodule when it is a module).</summary>
    public EquilibriumLayer(IEquilibriumFunction function, EquilibriumOptions? options = null) : base(nameof(EquilibriumLayer))
    {
        this.function = function ?? throw new ArgumentNullException(nameof(function));
        Options = options ?? new EquilibriumOptions();
        Options.Validate();
        var functionModule = function as nn.Module ?? (function as ModuleEquilibriumFunction)?.Module;
        if (functionModule is not null)
            register_module("f", functionModule);
    }

    /// <summary>The map f.</summary>
    public IEquilibriumFunction Function => function;

    /// <summary>Solver and gradient options.</summary>
    public EquilibriumOptions Options { get; set; }

    /// <summary>Name used in statistics and error messages.</summary>
    public string DisplayName { get; set; } = "equilibrium layer";

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Solve(input).State;

    /// <summary>Solves for z*, optionally from <paramref name="initialState"/>.</summary>
    /// <exception cref="Solvers.SolverNotConvergedException">The forward solve missed its tolerance (unless disabled).</exception>
    public EquilibriumResult Solve(Tensor input, Tensor? initialState = null)
    {
        RowInput.Check(input, function.InputFeatures, nameof(input));
        if (initialState is not null)
        {
            if (initialState.dim() != 2 || initialState.shape[0] != input.shape[0] || initialState.shape[1] != function.StateFeatures)
                throw new ArgumentException($"The initial state must have shape [{input.shape[0]}, {function.StateFeatures}], got [{string.Join(", ", initialState.shape)}].", nameof(initialState));
            // Checked here, so that a bad state is named as the caller's argument, not as the solver's initial guess.
            RowInput.CheckFinite(initialState, nameof(initialState));
        }
        var warm = training && Options.WarmStart;
        if (initialState is null && warm && previousState is not null && previousState.shape[0] == input.shape[0])
            initialState = previousState;
        initialState ??= zeros([input.shape[0], function.StateFeatures], dtype: input.dtype, device: input.device);

        var parameters = function.EffectiveParameters().ToArray();
        var phantom = Options.Gradient == EquilibriumBackward.Phantom;
        Tensor[] inputs = phantom ? [input.detach(), .. parameters.Select(p => p.detach())] : [input, .. parameters];
        var adjoint = Options.Gradient == EquilibriumBackward.Implicit ? Options.Adjoint : null;
        var (state, statistics) = ImplicitFixedPoint.Solve((z, u) => function.Apply(z, u[0], u[1..]), initialState, inputs, Options.Forward, adjoint, DisplayName,
            u => function.IterationMap(u[0], u[1..]));
        if (phantom)
        {
            var lambda = Options.PhantomDamping;
            for (var k = 0; k < Options.PhantomSteps; k++)
                state = state.Mul(1 - lambda).Add(function.Apply(state, input, parameters).Mul(lambda));
        }

        Tensor? penalty = null;
        if (training && Options.JacobianRegularization > 0 && is_grad_enabled())
            penalty = JacobianPenalty(state, input, parameters).Mul(Options.JacobianRegularization);
        if (warm)
        {
            previousState?.Dispose();
            previousState = state.detach().clone().DetachFromDisposeScope();
        }
        return new EquilibriumResult(function.Output(state), statistics, penalty);
    }

    /// <summary>One-probe Hutchinson estimate of ‖J_f(z*)‖_F² / d, differentiable in x and θ.</summary>
    private Tensor JacobianPenalty(Tensor state, Tensor input, Tensor[] parameters)
    {
        var z = state.detach().requires_grad_(true);
        var output = function.Apply(z, input, parameters);
        var probe = randn_like(output);
        var vjp = autograd.grad([output], [z], [probe], retain_graph: true, create_graph: true)[0];
        return vjp.Square().sum(dim: 1).mean().Div(function.StateFeatures);
    }
}
