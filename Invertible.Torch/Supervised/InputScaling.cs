using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Supervised;

/// <summary>
/// The input side of a supervised model: standardisation t = (x − μ) / σ with the training rows' moments, then smooth
/// clipping x̃ = t / √(1 + (t / b)²), which leaves |t| ≪ b unchanged and maps any outlier into (−b, b) — so that a
/// held-out value far outside the training range (a rarely used pixel, a heavy tail) cannot dominate a prediction.
/// </summary>
public sealed class InputScaling : nn.Module<Tensor, Tensor>
{
    /// <summary>Default <see cref="ClipBound"/>: outliers beyond 3 standard deviations are compressed.</summary>
    public const double DefaultClipBound = 3;

    private readonly Tensor mean, inverseScale;

    /// <summary>The identity scaling of <paramref name="features"/> features with the given clip bound (null: no clipping).</summary>
    public InputScaling(int features, double? clipBound = DefaultClipBound, ScalarType dtype = ScalarType.Float32) : base(nameof(InputScaling))
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "Must be at least 1.");
        if (clipBound is { } b && !(b > 0 && double.IsFinite(b))) throw new ArgumentOutOfRangeException(nameof(clipBound), b, "Must be positive and finite.");
        Features = features;
        ClipBound = clipBound;
        mean = zeros(features, dtype: dtype);
        inverseScale = ones(features, dtype: dtype);
        register_buffer("mean", mean);
        register_buffer("inverse_scale", inverseScale);
    }

    /// <summary>Features per row.</summary>
    public int Features { get; }

    /// <summary>b of the smooth clipping, or null for plain standardisation.</summary>
    public double? ClipBound { get; }

    /// <summary>μ, [features].</summary>
    public Tensor Mean => mean;

    /// <summary>1 / σ, [features] (0 for a constant feature, which then maps to 0).</summary>
    public Tensor InverseScale => inverseScale;

    /// <summary>Sets μ and σ from the training rows' mean and (maximum-likelihood) variance; a feature without variance maps to 0.</summary>
    public void Fit(Tensor featureMean, Tensor featureVariance)
    {
        ArgumentNullException.ThrowIfNull(featureMean);
        ArgumentNullException.ThrowIfNull(featureVariance);
        if (!featureMean.shape.SequenceEqual([Features]) || !featureVariance.shape.SequenceEqual([Features]))
            throw new ArgumentException($"Expected mean and variance of shape [{Features}], got [{string.Join(", ", featureMean.shape)}] and [{string.Join(", ", featureVariance.shape)}].");
        RowInput.CheckFinite(featureMean, nameof(featureMean));
        RowInput.CheckFinite(featureVariance, nameof(featureVariance));
        using var _ = no_grad();
        var variance = featureVariance.to(ScalarType.Float64);
        // Relative to the largest variance, so that a constant column's rounding noise does not become a unit feature.
        var floor = Math.Max(variance.max().ReadDouble(), 1e-300) * 1e-12;
        mean.copy_(featureMean);
        inverseScale.copy_(where(variance.Gt(floor), variance.ClampMin(floor).rsqrt(), zeros_like(variance)));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var t = input.sub(mean).mul(inverseScale);
        return ClipBound is { } b ? t.div(t.Div(b).Square().Add(1).sqrt()) : t;
    }
}
