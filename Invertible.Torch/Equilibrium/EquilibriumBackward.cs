namespace Invertible.Torch.Equilibrium;

/// <summary>How an equilibrium layer computes gradients.</summary>
public enum EquilibriumBackward
{
    /// <summary>
    /// Implicit differentiation: solve u = v + J_f(z*)ᵀ u with VJPs of f (any fixed-point solver), then
    /// ∂L/∂x = (∂f/∂x)ᵀ u and ∂L/∂θ = (∂f/∂θ)ᵀ u. Exact at the fixed point; memory independent of the forward iterations.
    /// </summary>
    Implicit,
    /// <summary>Phantom gradient: autograd through k damped steps z ← (1 − λ) z + λ f(z, x) started at z*.</summary>
    Phantom,
    /// <summary>Jacobian-free: u = v (the adjoint solve replaced by its first term). Cheapest; a descent direction for contractive f.</summary>
    JacobianFree,
}
