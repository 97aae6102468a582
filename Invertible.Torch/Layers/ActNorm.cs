using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// Activation normalisation (Kingma &amp; Dhariwal, Glow): y = (x + b) ⊙ exp(s), log|det| = Σ s, with b and s set from
/// the first training batch so that its output has zero mean and unit variance per feature.
/// </summary>
public sealed class ActNorm : nn.Module<Tensor, (Tensor Output, Tensor LogDet)>, IClosedFormLayer
{
    private readonly Parameter bias;
    private readonly Parameter logScale;
    private readonly Tensor initialized;

    /// <summary>Creates an uninitialised (identity) layer with a bias and scale per feature.</summary>
    public ActNorm(int features, ScalarType dtype = ScalarType.Float32) : this(features, null, dtype)
    {
    }

    /// <summary>Creates an uninitialised (identity) layer on flat rows of images of shape <paramref name="image"/> with a
    /// bias and scale per channel, shared by the channel's pixels (Glow's ActNorm).</summary>
    public static ActNorm PerChannel(ImageShape image, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new ActNorm(image.Size, image, dtype);
    }

    private ActNorm(int features, ImageShape? image, ScalarType dtype) : base(nameof(ActNorm))
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "Must be at least 1.");
        Features = features;
        Image = image;
        var parameters = image?.Channels ?? features;
        bias = new Parameter(zeros(parameters, dtype: dtype));
        logScale = new Parameter(zeros(parameters, dtype: dtype));
        initialized = tensor(false);
        register_buffer("initialized", initialized);
        RegisterComponents();
    }

    /// <summary>The images' shape when the bias and scale are per channel; null when they are per feature.</summary>
    public ImageShape? Image { get; }

    // Features sharing one bias and scale: the pixels of a channel, or 1.
    private int Shared => Image is { } image ? image.Height * image.Width : 1;

    /// <inheritdoc />
    public int Features { get; }

    /// <summary>b, [features] or [channels].</summary>
    public Parameter Bias => bias;

    /// <summary>s, [features] or [channels]: the log-scale.</summary>
    public Parameter LogScale => logScale;

    /// <summary>Whether the data-dependent initialisation has happened.</summary>
    public bool IsInitialized => initialized.item<bool>();

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input) => forward(input);

    /// <inheritdoc />
    public override (Tensor Output, Tensor LogDet) forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        if (training && !IsInitialized)
            Initialize(input);
        return ClosedFormLayer.Evaluate(this, input);
    }

    /// <summary>y = (x + b) ⊙ exp(s).</summary>
    T IClosedFormLayer.Forward<T>(ITensorAlgebra<T> ops, T input)
        => ops.Mul(ops.Add(input, PerFeature(ops, ops.Weight(bias, "bias"))), PerFeature(ops, ops.Exp(ops.Weight(logScale, "log_scale"))));

    /// <summary>log|det| = Σ s over the features (a channel's s once per pixel), the same for every row.</summary>
    Tensor IClosedFormLayer.ConstantLogDet() => logScale.sum().Mul(Shared);

    /// <summary>x = y ⊙ exp(−s) − b.</summary>
    T IClosedFormLayer.Inverse<T>(ITensorAlgebra<T> ops, T output)
        => ops.Sub(ops.Mul(output, PerFeature(ops, ops.Exp(ops.Scale(ops.Weight(logScale, "log_scale"), -1)))), PerFeature(ops, ops.Weight(bias, "bias")));

    private T PerFeature<T>(ITensorAlgebra<T> ops, T values) => Image is { } image ? ops.PerChannel(values, image) : values;

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        RowInput.Check(output, Features, nameof(output));
        return new InverseResult(ClosedFormLayer.Invert(this, output), []);
    }

    /// <summary>Sets y = (x + b) ⊙ exp(s) and marks the layer initialised (no data-dependent initialisation follows).</summary>
    public void Initialize(Tensor bias, Tensor logScale)
    {
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentNullException.ThrowIfNull(logScale);
        var size = this.bias.shape[0];
        if (!bias.shape.SequenceEqual([size]) || !logScale.shape.SequenceEqual([size]))
            throw new ArgumentException($"Expected bias and log-scale of shape [{size}], got [{string.Join(", ", bias.shape)}] and [{string.Join(", ", logScale.shape)}].");
        RowInput.CheckFinite(bias, nameof(bias));
        RowInput.CheckFinite(logScale, nameof(logScale));
        using var _ = no_grad();
        this.bias.copy_(bias);
        this.logScale.copy_(logScale);
        initialized.FillInPlace(true);
    }

    /// <summary>Sets b and s so that <paramref name="batch"/> maps to zero mean and unit variance per feature, or per
    /// channel over its pixels (unit scale where a feature or channel is constant over the batch).</summary>
    public void Initialize(Tensor batch)
    {
        RowInput.Check(batch, Features, nameof(batch));
        using var _ = no_grad();
        var groups = batch.view(batch.shape[0], bias.shape[0], Shared);
        var mean = groups.mean([0, 2]);
        var std = batch.shape[0] * Shared > 1 ? groups.std([0, 2], unbiased: false) : ones_like(mean);
        bias.copy_(mean.neg());
        // A feature constant over the batch (a zero-padded one) keeps unit scale: 1 / std would be huge there, and the
        // first step on its bias would blow the output up.
        logScale.copy_(where(std.Gt(1e-6), std, ones_like(std)).log().neg());
        initialized.FillInPlace(true);
    }
}
