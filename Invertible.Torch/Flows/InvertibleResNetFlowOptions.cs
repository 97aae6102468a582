using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.LogDet;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>Architecture and estimators of an <see cref="InvertibleResNetFlow"/>. Every property has a documented default.</summary>
public sealed class InvertibleResNetFlowOptions : ResidualBranchOptions
{
    /// <summary>Default values.</summary>
    public new static class Defaults
    {
        /// <summary>Default <see cref="InvertibleResNetFlowOptions.Blocks"/>.</summary>
        public const int Blocks = 8;
        /// <summary>Feature counts up to this use the exact log-determinant in training by default.</summary>
        public const int ExactLogDetMaxFeatures = 16;
        /// <summary>Image flows of up to this many values use the exact log-determinant in evaluation by default.</summary>
        public const int ExactEvaluationLogDetMaxFeatures = 256;
        /// <summary>Default upper limit of <see cref="InvertibleResNetFlowOptions.Scales"/>.</summary>
        public const int MaxScales = 3;
    }

    /// <summary>Number of residual blocks (per scale when <see cref="Image"/> is set). Default 8.</summary>
    public int Blocks { get; init; } = Defaults.Blocks;

    /// <summary>
    /// The rows are images of this shape (channel-major): the flow is then multi-scale and convolutional (i-ResNet,
    /// Residual Flows). Each scale squeezes 2×2 pixels into channels (<see cref="SpaceToDepth"/>), runs
    /// <see cref="Blocks"/> × ([per-channel ActNorm] [1×1 invertible convolution] convolutional residual block with
    /// <see cref="ResidualBranchOptions.HiddenFeatures"/> hidden channels) and an ActNorm; every scale after the first
    /// first factors out half of the channels, which go to the latent as they are. Default null: dense blocks on rows.
    /// </summary>
    public ImageShape? Image { get; init; }

    /// <summary>
    /// Values in [0, 1] (pixels scaled by 1/255) first go through the logit transform with this α (<see cref="Layers.Logit"/>),
    /// so the flow models unbounded values and a pixel's density can concentrate at 0 and 1. Default null: no logit.
    /// </summary>
    public double? LogitAlpha { get; init; }

    /// <summary>Scales of an image flow (each halves the height and width, so both must divide by 2^Scales). Default
    /// (null): as many as the sides allow, at most 3.</summary>
    public int? Scales { get; init; }

    /// <summary>
    /// Image only: the flow ends with a dense ActNorm and LU layer over all of the image's values, after the scales, so
    /// it can start as the full-covariance Gaussian of the pixels (<see cref="InvertibleResNetFlow.InitializeGaussian(Tensor, Tensor, double)"/>)
    /// and keeps correlations between distant pixels, which the convolutions and per-pixel layers do not reach. The two
    /// layers are fitted in closed form, not trained (their parameters do not require gradients). They cost a d × d
    /// matrix (d = the image's values) per batch. Default false.
    /// </summary>
    public bool FullCovariance { get; init; }

    /// <summary>
    /// Image only: where a scale factors out half of the channels, a <see cref="ConditionalFactorOut"/> first standardises
    /// them by a Gaussian conditioned on the kept half, so the factored-out detail is modelled given the coarse image
    /// instead of as independent N(0, 1) values. Default false.
    /// </summary>
    public bool ConditionalFactorOut { get; init; }

    /// <summary>An ActNorm layer before every block and at the end. Default true.</summary>
    public bool ActNorm { get; init; } = true;

    /// <summary>An LU-parameterised invertible linear layer before every block. Default false.</summary>
    public bool InvertibleLinear { get; init; }

    /// <summary>
    /// Log-determinant in training. Default (null): exact for up to 16 features, otherwise unbiased Russian roulette
    /// with the Neumann-series gradient.
    /// </summary>
    public LogDetOptions? TrainingLogDet { get; init; }

    /// <summary>
    /// Log-determinant in evaluation (log-likelihoods, anomaly scores). Default (null): exact, except on image flows of
    /// more than 256 values, where a block's exact Jacobian costs d³ per row: there the deterministic fixed-probe series
    /// (<see cref="LogDetMethod.FixedProbeSeries"/>, 10 terms, 4 Rademacher probes).
    /// </summary>
    public LogDetOptions? EvaluationLogDet { get; init; }

    /// <summary>
    /// Solver options of the inverse (sampling, latent → data). Default: the adaptive solver to relative residual 1e-6 with an
    /// absolute floor of 1e-6 — inside the flow rows are standardised by ActNorm, and a row whose solution lies near the
    /// origin cannot be resolved to a relative 1e-6 in float32 (measured: one of 20 000 checkerboard samples stalled at
    /// 2.6e-6 with ‖x‖ = 0.005, ‖y‖ = 0.22).
    /// </summary>
    public ImplicitOptions Inverse { get; init; } = new() { Forward = new FixedPointOptions { AbsoluteTolerance = 1e-6 } };

    internal int ScalesFor(ImageShape image)
    {
        var possible = 0;
        while (image.Height % (2 << possible) == 0 && image.Width % (2 << possible) == 0)
            possible++;
        if (possible == 0)
            throw new ArgumentException($"An image flow squeezes 2×2 pixels into channels, so the height and width must be even; got {image}.", nameof(Image));
        if (Scales > possible)
            throw new ArgumentException($"{Scales} scales need a height and width divisible by {1 << Scales.Value}; {image} allows {possible}.", nameof(Scales));
        return Scales ?? Math.Min(possible, Defaults.MaxScales);
    }

    internal LogDetOptions EvaluationLogDetFor(int features) => EvaluationLogDet
        ?? (Image is not null && features > Defaults.ExactEvaluationLogDetMaxFeatures
            ? new LogDetOptions { Method = LogDetMethod.FixedProbeSeries, Terms = 10, Probes = 4, Probe = TraceProbe.Rademacher }
            : LogDetOptions.Exact);

    internal LogDetOptions TrainingLogDetFor(int features) => TrainingLogDet ?? (features <= Defaults.ExactLogDetMaxFeatures
        ? LogDetOptions.Exact
        : new LogDetOptions { Method = LogDetMethod.RussianRoulette, NeumannGradient = true });

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.AtLeast(Blocks, 1);
        OptionCheck.AtLeast(Scales, 1);
        if (ConditionalFactorOut && Image is null)
            throw new ArgumentException("ConditionalFactorOut needs an image flow (Image): dense flows factor nothing out.", nameof(ConditionalFactorOut));
        if (FullCovariance && Image is null)
            throw new ArgumentException("FullCovariance needs an image flow (Image); a dense flow's first ActNorm and LU layer already act on all features.", nameof(FullCovariance));
        if (LogitAlpha is { } alpha)
            OptionCheck.Within(alpha, 0, false, 0.5, false, nameof(LogitAlpha));
        ValidateBranch();
        TrainingLogDet?.Validate();
        EvaluationLogDet?.Validate();
        OptionCheck.Required(Inverse);
        Inverse.Validate();
    }
}
