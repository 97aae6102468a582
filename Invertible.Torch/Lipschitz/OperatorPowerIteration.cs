using Invertible.Torch.Core;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>
/// The power iteration for the largest singular value of a linear operator A given as its action and its adjoint's, on
/// vectors of any shape (a matrix's columns, or images for a convolution): written once for both.
/// </summary>
/// <remarks>Each iteration sets u ← A v / ‖A v‖ and tests the pair with σ = ‖A v‖: ‖A v − σ u‖ is zero by construction
/// and ‖Aᵀ u − σ v‖ reuses the product Aᵀ u that the next update v ← Aᵀ u / ‖Aᵀ u‖ needs, so the test costs no extra
/// product. Runs without gradients; σ's gradient comes from re-evaluating ⟨u, A v⟩ with u, v constant.</remarks>
internal static class OperatorPowerIteration
{
    /// <param name="apply">v ↦ A v.</param>
    /// <param name="adjoint">u ↦ Aᵀ u.</param>
    /// <param name="v">A unit start vector in A's domain.</param>
    /// <param name="options">Iteration cap and stopping rule.</param>
    /// <param name="restart">A new start when A v = 0 with A ≠ 0; null means A v = 0 proves σ = 0.</param>
    public static (Tensor Sigma, Tensor U, Tensor V, int Iterations, bool Converged) Iterate(
        Func<Tensor, Tensor> apply, Func<Tensor, Tensor> adjoint, Tensor v, SpectralNormOptions options, Func<Tensor?>? restart)
    {
        Tensor? u = null;
        var sigma = zeros([], dtype: v.dtype, device: v.device);
        for (var k = 1; k <= options.MaxIterations; k++)
        {
            var av = apply(v);
            var avNorm = av.norm();
            var normValue = avNorm.ReadDouble();
            if (normValue == 0)
            {
                // A v = 0: v lies in the null space; σ = 0 is exact only if A = 0, otherwise restart elsewhere.
                if (restart?.Invoke() is not { } next)
                    return (sigma, ones_like(av).DivInPlace(Math.Sqrt(av.numel())), v, k, true);
                v = next.div(next.norm());
                continue;
            }
            u = av.div(avNorm);
            sigma = avNorm;
            var atu = adjoint(u);
            if (options.CheckConvergence)
            {
                var residual = atu.sub(v.mul(sigma)).norm().ReadDouble();
                if (residual <= options.RelativeTolerance * normValue + options.AbsoluteTolerance)
                    return (sigma, u, v, k, true);
            }
            if (k == options.MaxIterations)
                break;
            v = atu.div(atu.norm().ClampMin(1e-30)); // 1e-30, not double.Epsilon, which is 0 in float32
        }
        return (sigma, u!, v, options.MaxIterations, false);
    }
}
