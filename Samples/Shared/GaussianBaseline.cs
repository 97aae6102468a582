using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Samples.Shared;

/// <summary>A full-covariance Gaussian fitted by maximum likelihood: the baseline every density model must beat.</summary>
public sealed class GaussianBaseline
{
    private readonly Tensor mean;
    private readonly Tensor choleskyFactor;

    /// <summary>Fits mean and covariance to the rows of <paramref name="data"/> (float64 internally), adding
    /// <paramref name="regularization"/> × the mean variance to the diagonal (0: the maximum-likelihood fit).</summary>
    public GaussianBaseline(Tensor data, double regularization = 0)
    {
        var x = data.to(ScalarType.Float64);
        mean = x.mean([0]);
        var centred = x.sub(mean);
        var covariance = centred.t().mm(centred).div(x.shape[0]);
        if (regularization > 0)
            covariance = covariance.add(eye(covariance.shape[0], dtype: ScalarType.Float64).mul(regularization * covariance.diagonal().mean().item<double>()));
        choleskyFactor = linalg.cholesky(covariance);
    }

    /// <summary>log N(x; μ, Σ) per row, in nats.</summary>
    public Tensor LogProb(Tensor data)
    {
        var centred = data.to(ScalarType.Float64).sub(mean).t();
        var whitened = linalg.solve_triangular(choleskyFactor, centred, upper: false);
        var d = mean.shape[0];
        var logDet = choleskyFactor.diagonal().log().sum().mul(2);
        return whitened.square().sum(dim: 0).add(logDet).add(d * Math.Log(2 * Math.PI)).mul(-0.5);
    }

    /// <summary>Draws rows from the fitted Gaussian.</summary>
    public Tensor Sample(int count, Generator? generator = null)
        => randn([count, mean.shape[0]], dtype: ScalarType.Float64, generator: generator).mm(choleskyFactor.t()).add(mean);
}
