using Invertible.Torch.Implicit;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>The output of <see cref="EquilibriumLayer.Solve"/>.</summary>
/// <param name="State">z*, [batch, state]; differentiable according to the backward mode.</param>
/// <param name="Statistics">Forward solve, and the adjoint solve once backward has run (implicit mode).</param>
/// <param name="JacobianPenalty">Weighted ‖J_f(z*)‖_F² / d estimate to add to the loss, or null when disabled or not training.</param>
public sealed record EquilibriumResult(Tensor State, ImplicitSolveStatistics Statistics, Tensor? JacobianPenalty);
