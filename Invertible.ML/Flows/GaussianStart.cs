using Invertible.ML.Data;
using Invertible.Torch.Core;
using Invertible.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.ML.Flows;

/// <summary>
/// Chooses the covariance regularisation λ of the flow's Gaussian start — Σ_λ = S + λ · mean(diag S) · I — by the
/// held-out rows' likelihood, in closed form from the two parts' moments. Small data with rare or constant features
/// need far more than a token λ: one held-out row with a value where the training rows never vary costs thousands of
/// nats under an unregularised Gaussian (measured on the digits: 1 900 nats per row at λ = 1e-3).
/// </summary>
internal static class GaussianStart
{
    /// <summary>The grid of λ tried: 1e-4 to 1, four points per decade.</summary>
    public static readonly double[] Grid = Enumerable.Range(0, 17).Select(i => Math.Pow(10, -4 + i / 4.0)).ToArray();

    /// <summary>λ without held-out rows.</summary>
    public const double Fallback = 1e-3;

    /// <summary>The λ of <see cref="Grid"/> with the lowest validation NLL (its value too).</summary>
    public static (double Regularization, double ValidationNll) Select(DataStatistics statistics)
    {
        if (statistics.ValidationRows == 0)
            return (Fallback, double.NaN);
        using var scope = NewDisposeScope();
        var mean = statistics.Training.Mean;
        var covariance = statistics.Training.Covariance;
        covariance = covariance.Add(covariance.t()).Div(2);
        var spread = statistics.Validation.SecondMomentAbout(mean);
        var d = covariance.shape[0];
        var scale = Math.Max(covariance.diagonal().mean().ReadDouble(), 1e-12);
        var best = (Regularization: Fallback, ValidationNll: double.PositiveInfinity);
        foreach (var lambda in Grid)
        {
            var sigma = covariance.Add(eye(d, dtype: ScalarType.Float64).Mul(lambda * scale));
            var (factor, info) = linalg.cholesky_ex(sigma);
            if (info.ReadInt64() != 0)
                continue;
            var logDet = factor.diagonal().log().sum().ReadDouble() * 2;
            var quadratic = linalg.solve(sigma, spread).trace().ReadDouble();
            var nll = 0.5 * (logDet + quadratic + d * Math.Log(2 * Math.PI));
            if (nll < best.ValidationNll)
                best = (lambda, nll);
        }
        return best;
    }
}
