using Invertible.Torch.Core;
using Invertible.ML.Flows;

namespace Invertible.ML.Trainers;

/// <summary>
/// Options of the i-ResNet anomaly detector: the flow of <see cref="InvertibleResNetOptions"/> (whose latent and
/// log-likelihood column names are not used: the detector adds <c>Score</c> and <c>PredictedLabel</c>) and the
/// false-positive rate that sets the decision threshold.
/// </summary>
public sealed class InvertibleResNetAnomalyOptions : InvertibleResNetOptions
{
    /// <summary>Default <see cref="FalsePositiveRate"/>.</summary>
    public const double DefaultFalsePositiveRate = 0.05;

    /// <summary>
    /// The share of normal rows flagged as anomalies: the threshold on <c>Score</c> = −log p(x) is this upper quantile of
    /// the held-out training rows' scores (of all training rows without a validation share). Default 0.05.
    /// </summary>
    public double FalsePositiveRate = DefaultFalsePositiveRate;

    // A flow's likelihood of images ranks background-heavy images of other classes above the normal class; from the
    // pixels' Gaussian the detector starts where that Gaussian stands.
    internal override bool ImageFullCovarianceDefault => true;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionCheck.Within(FalsePositiveRate, 0, false, 1, false);
    }
}
