using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>The outcome of <see cref="SpectralNorm.Compute"/>.</summary>
/// <param name="Sigma">Largest singular value σ = uᵀ A v as a scalar tensor; differentiable in A with gradient u vᵀ.</param>
/// <param name="U">Left singular vector (unit norm, shape [rows]); not differentiable.</param>
/// <param name="V">Right singular vector (unit norm, shape [columns]); not differentiable.</param>
/// <param name="Iterations">Power iterations run.</param>
/// <param name="Converged">Whether the stopping rule was met (always false when convergence is not checked).</param>
public sealed record SpectralNormResult(Tensor Sigma, Tensor U, Tensor V, int Iterations, bool Converged);
