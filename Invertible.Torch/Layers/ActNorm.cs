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

    /// <summary>Creates an uninitialised (identity) layer.</summary>
    public ActNorm(int features, ScalarType dtype = ScalarType.Float32) : base(nameof(ActNorm))
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "Must be at least 1.");
        Features = features;
        bias = new Parameter(zeros(features, dtype: dtype));
        logScale = new Parameter(zeros(features, dtype: dtype));
        initialized = tensor(false);
        register_buffer("initialized", initialized);
        RegisterComponents();
    }

    /// <inheritdoc />
    public int Features { get; }

    /// <summary>b, [features].</summary>
    public Parameter Bias => bias;

    /// <summary>s, [features]: the per-feature log-scale.</summary>
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
    T IClosedFormLayer.Forward<T>(ITensorAlgebra<T> ops, T input) => ops.Mul(ops.Add(input, ops.Weight(bias, "bias")), ops.Exp(ops.Weight(logScale, "log_scale")));

    /// <summary>log|det| = Σ s, the same for every row.</summary>
    Tensor IClosedFormLayer.ConstantLogDet() => logScale.sum();

    /// <summary>x = y ⊙ exp(−s) − b.</summary>
    T IClosedFormLayer.Inverse<T>(ITensorAlgebra<T> ops, T output)
        => ops.Sub(ops.Mul(output, ops.Exp(ops.Scale(ops.Weight(logScale, "log_scale"), -1))), ops.Weight(bias, "bias"));

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
        if (!bias.shape.SequenceEqual([Features]) || !logScale.shape.SequenceEqual([Features]))
            throw new ArgumentException($"Expected bias and log-scale of shape [{Features}], got [{string.Join(", ", bias.shape)}] and [{string.Join(", ", logScale.shape)}].");
        RowInput.CheckFinite(bias, nameof(bias));
        RowInput.CheckFinite(logScale, nameof(logScale));
        using var _ = no_grad();
        this.bias.copy_(bias);
        this.logScale.copy_(logScale);
        initialized.FillInPlace(true);
    }

    /// <summary>Sets b and s so that <paramref name="batch"/> maps to zero mean and unit variance per feature (unit scale
    /// where a feature is constant over the batch).</summary>
    public void Initialize(Tensor batch)
    {
        RowInput.Check(batch, Features, nameof(batch));
        using var _ = no_grad();
        var mean = batch.mean([0]);
        var std = batch.shape[0] > 1 ? batch.std(0, unbiased: false) : ones_like(mean);
        bias.copy_(mean.neg());
        // A feature constant over the batch (a zero-padded one) keeps unit scale: 1 / std would be huge there, and the
        // first step on its bias would blow the output up.
        logScale.copy_(where(std.Gt(1e-6), std, ones_like(std)).log().neg());
        initialized.FillInPlace(true);
    }
}
