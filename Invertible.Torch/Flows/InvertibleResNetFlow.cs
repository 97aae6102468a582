using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>
/// A normalizing flow of invertible residual blocks (i-ResNet / Residual Flows) with a standard normal base:
/// log p(x) = log N(F(x); 0, I) + log|det J_F(x)|.
/// </summary>
/// <remarks>
/// Layers, in order: for each block [ActNorm] [InvertibleLinear] ResidualFlowBlock, then a final [ActNorm].
/// Forward maps data to latent; <see cref="Inverse"/> maps latent to data block by block in reverse (fixed-point
/// solves); <see cref="Sample"/> draws from the model.
/// </remarks>
public sealed class InvertibleResNetFlow : nn.Module<Tensor, (Tensor Latent, Tensor LogDet)>
{
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);
    private readonly ModuleList<nn.Module<Tensor, (Tensor, Tensor)>> layers = new();
    private readonly InvertibleResNetFlowOptions options;

    /// <summary>Creates a flow on rows of <paramref name="features"/> values.</summary>
    public InvertibleResNetFlow(int features, InvertibleResNetFlowOptions? options = null, Generator? generator = null) : base(nameof(InvertibleResNetFlow))
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "Must be at least 1.");
        this.options = options ??= new InvertibleResNetFlowOptions();
        options.Validate();
        Features = features;
        var training = options.TrainingLogDetFor(features);
        var blockOptions = new ResidualBlockOptions
        {
            HiddenFeatures = options.HiddenFeatures, Depth = options.Depth, Coefficient = options.Coefficient,
            Activation = options.Activation, PowerIterations = options.PowerIterations, DType = options.DType,
        };
        for (var i = 0; i < options.Blocks; i++)
        {
            if (options.ActNorm)
                layers.Add(new ActNorm(features, options.DType));
            if (options.InvertibleLinear)
                layers.Add(new InvertibleLinear(features, options.DType, generator));
            var block = new ResidualBlock(features, blockOptions, generator) { DisplayName = $"residual block {i}" };
            layers.Add(new ResidualFlowBlock(block, training, options.EvaluationLogDet));
        }
        if (options.ActNorm)
            layers.Add(new ActNorm(features, options.DType));
        RegisterComponents();
    }

    /// <summary>Number of features per row.</summary>
    public int Features { get; }

    /// <summary>The options the flow was built with.</summary>
    public InvertibleResNetFlowOptions Options => options;

    /// <summary>The layers, first applied first.</summary>
    public IReadOnlyList<IFlowLayer> Layers => layers.Cast<IFlowLayer>().ToList();

    /// <summary>Random source for stochastic log-determinant estimators.</summary>
    public Generator? Generator
    {
        set
        {
            foreach (var block in layers.Cast<object>().OfType<ResidualFlowBlock>())
                block.Generator = value;
        }
    }

    /// <summary>Latent z = F(x) and log|det J_F(x)| per row.</summary>
    public override (Tensor Latent, Tensor LogDet) forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        var value = input;
        Tensor? logDet = null;
        foreach (var layer in layers)
        {
            var (output, layerLogDet) = layer.call(value);
            value = output;
            logDet = logDet is null ? layerLogDet : logDet.add(layerLogDet);
        }
        return (value, logDet!);
    }

    /// <summary>log p(x) per row, in nats.</summary>
    public Tensor LogProb(Tensor input)
    {
        var (latent, logDet) = forward(input);
        return StandardNormalLogProb(latent).add(logDet);
    }

    /// <summary>x = F⁻¹(z), block by block in reverse.</summary>
    public Tensor Inverse(Tensor latent, ImplicitOptions? solver = null)
    {
        RowInput.Check(latent, Features, nameof(latent));
        var value = latent;
        foreach (var layer in Layers.Reverse())
            value = layer.Inverse(value, solver ?? options.Inverse);
        return value;
    }

    /// <summary>Draws <paramref name="count"/> rows from the model: z ~ N(0, I), x = F⁻¹(z) (no gradient).</summary>
    public Tensor Sample(int count, Generator? generator = null, ImplicitOptions? solver = null)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Must be at least 1.");
        using var _ = no_grad();
        var first = parameters().First();
        var latent = randn([count, Features], dtype: first.dtype, device: first.device, generator: generator);
        return Inverse(latent, solver);
    }

    /// <summary>log N(z; 0, I) per row.</summary>
    public static Tensor StandardNormalLogProb(Tensor latent)
        => latent.square().sum(dim: 1).mul(-0.5).sub(HalfLogTwoPi * latent.shape[1]);
}
