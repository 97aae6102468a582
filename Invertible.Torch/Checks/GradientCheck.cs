using System.Globalization;
using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Checks;

/// <summary>
/// Autograd's gradient of a scalar function against finite differences, for a user's TorchSharp code (a custom
/// autograd function, an implicit layer): along random directions D, ⟨∇L, D⟩ must equal
/// (−L(x + 2hD) + 8 L(x + hD) − 8 L(x − hD) + L(x − 2hD)) / 12h, whose error is O(h⁴).
/// </summary>
public static class GradientCheck
{
    /// <summary>
    /// Checks ∂<paramref name="loss"/>/∂T for every tensor T of <paramref name="inputs"/> (float64 leaves that require
    /// gradients, moved in place and restored) along <paramref name="directions"/> seeded random directions.
    /// </summary>
    /// <param name="loss">Computes the scalar from the current values of <paramref name="inputs"/>.</param>
    /// <param name="inputs">Float64 tensors with <c>requires_grad</c> (inputs or parameters).</param>
    /// <param name="relativeTolerance">Allowed |autograd − finite differences| / max(|autograd|, |finite differences|, 1e-8).</param>
    /// <param name="step">The difference step h along a unit-RMS direction.</param>
    /// <param name="directions">Random directions per tensor.</param>
    /// <param name="seed">Seed of the directions.</param>
    /// <returns>The largest relative error seen.</returns>
    /// <exception cref="ArgumentException">An input is not float64 or does not require gradients, or the loss is not a scalar.</exception>
    /// <exception cref="CheckFailedException">A directional derivative disagrees (the message names the input and direction).</exception>
    public static double AgainstFiniteDifferences(Func<Tensor> loss, IReadOnlyList<Tensor> inputs, double relativeTolerance = 1e-6,
        double step = 1e-4, int directions = 3, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(relativeTolerance);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(step);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(directions);
        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].dtype != ScalarType.Float64)
                throw new ArgumentException($"inputs[{i}] is {inputs[i].dtype}; finite differences need Float64 (float32 rounding swamps the O(h⁴) error).", nameof(inputs));
            if (!inputs[i].requires_grad)
                throw new ArgumentException($"inputs[{i}] does not require gradients.", nameof(inputs));
        }

        Tensor[] gradients;
        using (var value = loss())
        {
            if (value.numel() != 1)
                throw new ArgumentException($"The loss has shape [{string.Join(", ", value.shape)}]; it must be a scalar.", nameof(loss));
            gradients = torch.autograd.grad([value], [.. inputs], allow_unused: true).Select((g, i) => g is null || g.IsInvalid ? zeros_like(inputs[i]) : g.detach()).ToArray();
        }

        var generator = new Generator(seed);
        var worst = 0.0;
        for (var i = 0; i < inputs.Count; i++)
            for (var k = 0; k < directions; k++)
            {
                var direction = randn(inputs[i].shape, dtype: ScalarType.Float64, device: inputs[i].device, generator: generator);
                var analytic = gradients[i].mul(direction).sum().ReadDouble();
                var numeric = Derivative(inputs[i], direction, loss, step);
                var error = Math.Abs(analytic - numeric) / Math.Max(Math.Max(Math.Abs(analytic), Math.Abs(numeric)), 1e-8);
                if (!(error <= relativeTolerance))
                    throw new CheckFailedException(string.Create(CultureInfo.InvariantCulture,
                        $"Gradient of inputs[{i}] along random direction {k}: autograd {analytic:G10}, finite differences {numeric:G10} (relative error {error:G3} > {relativeTolerance:G3})."));
                worst = Math.Max(worst, error);
            }
        return worst;
    }

    private static double Derivative(Tensor target, Tensor direction, Func<Tensor> loss, double h)
    {
        double At(double t)
        {
            using var _ = no_grad();
            using var original = target.clone();
            target.AddInPlace(direction, alpha: t);
            try
            {
                using var value = loss();
                return value.ReadDouble();
            }
            finally
            {
                target.copy_(original);
            }
        }
        return (-At(2 * h) + 8 * At(h) - 8 * At(-h) + At(-2 * h)) / (12 * h);
    }
}
