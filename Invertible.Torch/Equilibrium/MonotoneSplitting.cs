using Invertible.Torch.Core;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// Peaceman–Rachford splitting of a monotone cell z = ReLU(W z + b̃) with I − W ⪰ m I (monDEQ), written once for the dense
/// and the convolutional cell, which differ only in how they apply the resolvent V = (I + α(I − W))⁻¹: the iteration on
/// the splitting variable s is T(s) = 2V(|s| + α b̃) − |s| (2 ReLU(s) − s = |s|), a contraction for every α &gt; 0, whose
/// fixed point gives z* = ReLU(s*).
/// </summary>
internal static class MonotoneSplitting
{
    /// <summary>T(s) for state rows s, the scaled injection α b̃ and the resolvent V (differentiable in all three).</summary>
    public static Tensor Step(Tensor state, Tensor scaledInjection, Func<Tensor, Tensor> resolve)
    {
        var reflected = state.abs();
        return resolve(reflected.Add(scaledInjection)).Mul(2).sub(reflected);
    }

    /// <summary>s ↦ T(s) for the forward solve: V(2α b̃) is computed once, so each step applies V once, to |s|.</summary>
    public static Func<Tensor, Tensor> IterationMap(Tensor scaledInjection, Func<Tensor, Tensor> resolve)
    {
        var constant = resolve(scaledInjection.Mul(2));
        return s =>
        {
            var reflected = s.abs();
            return resolve(reflected).Mul(2).sub(reflected).AddInPlace(constant);
        };
    }

    /// <summary>
    /// α = 1/√(μ L) for I − W with μ I ⪯ sym(I − W) and ‖I − W‖₂ = L: every α &gt; 0 converges to the same point, and this one
    /// balances the two reflections (measured on a convolutional cell after one epoch on Fashion-MNIST, L/μ = 34: 16
    /// iterations to relative residual 1e-3, where 1/L took 59, 1/(2√(μL)) 25, 2/√(μL) 17).
    /// </summary>
    public static double StepSize(double monotonicity, double lipschitz) => 1 / Math.Sqrt(monotonicity * lipschitz);
}
