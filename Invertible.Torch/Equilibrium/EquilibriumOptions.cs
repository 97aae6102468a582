using Invertible.Torch.Core;
using Invertible.Torch.Solvers;

namespace Invertible.Torch.Equilibrium;

/// <summary>Options of an <see cref="EquilibriumLayer"/>. Every property has a documented default.</summary>
public sealed class EquilibriumOptions
{
    /// <summary>Forward solve. Default Adaptive (Picard, then Anderson with m = 5 when the map contracts slowly) to relative residual 1e-5, at most 100 iterations.</summary>
    public FixedPointOptions Forward { get; init; } = new() { Tolerance = 1e-5, MaxIterations = 100 };

    /// <summary>How gradients pass through the equilibrium. Default <see cref="EquilibriumBackward.Implicit"/>.</summary>
    public EquilibriumBackward Gradient { get; init; } = EquilibriumBackward.Implicit;

    /// <summary>Adjoint solve of the implicit mode. Default Adaptive to 1e-5, at most 100 iterations.</summary>
    public FixedPointOptions Adjoint { get; init; } = new() { Tolerance = 1e-5, MaxIterations = 100 };

    /// <summary>Phantom mode: unrolled steps k. Default 5.</summary>
    public int PhantomSteps { get; init; } = 5;

    /// <summary>Phantom mode: damping λ in (0, 1]. Default 0.5.</summary>
    public double PhantomDamping { get; init; } = 0.5;

    /// <summary>
    /// Weight of the Jacobian regularisation ‖J_f(z*)‖_F² / d (one Hutchinson probe) in training; 0 disables it. The
    /// estimate is exposed as <see cref="EquilibriumResult.JacobianPenalty"/> for the loss to add. Default 0.
    /// </summary>
    public double JacobianRegularization { get; init; }

    /// <summary>Start each solve from the previous call's solution when the batch has the same shape. Default false.</summary>
    public bool WarmStart { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.Required(Forward);
        OptionCheck.Required(Adjoint);
        Forward.Validate();
        Adjoint.Validate();
        OptionCheck.Defined(Gradient);
        OptionCheck.AtLeast(PhantomSteps, 1);
        OptionCheck.Within(PhantomDamping, 0, false, 1, true);
        OptionCheck.NonNegative(JacobianRegularization);
    }
}
