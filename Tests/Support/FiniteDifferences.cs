using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Tests.Support;

/// <summary>Fourth-order central differences, the reference for analytic gradients.</summary>
internal static class FiniteDifferences
{
    /// <summary>d/dh L(h) at 0 from L(±h), L(±2h): error O(h⁴).</summary>
    public static double Derivative(Func<double, double> loss, double h)
        => (-loss(2 * h) + 8 * loss(h) - 8 * loss(-h) + loss(-2 * h)) / (12 * h);

    /// <summary>
    /// Checks ⟨∂L/∂T_i, D_i⟩ against the difference quotient of <paramref name="loss"/> when T_i moves in place along a
    /// random direction D_i, for every tensor T_i (restored afterwards).
    /// </summary>
    public static void CheckDirectionalDerivatives(Tensor[] tensors, Tensor[] gradients, Func<double> loss, double h, double tolerance, string what)
    {
        for (var i = 0; i < tensors.Length; i++)
        {
            var direction = randn_like(tensors[i]);
            var target = tensors[i];
            double LossAt(double step)
            {
                using var _ = no_grad();
                var original = target.clone();
                target.add_(direction, alpha: step);
                var value = loss();
                target.copy_(original);
                return value;
            }
            Check.Close(gradients[i].mul(direction).sum().ToDouble(), Derivative(LossAt, h), tolerance, $"{what}: directional derivative for tensor {i}");
        }
    }
}
