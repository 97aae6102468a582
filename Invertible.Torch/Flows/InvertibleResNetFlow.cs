using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>
/// A normalizing flow of invertible residual blocks (i-ResNet / Residual Flows) with a standard normal base:
/// log p(x) = log N(F(x); 0, I) + log|det J_F(x)| (the contract and its sign rule: <see cref="IInvertibleDensityModel"/>).
/// </summary>
/// <remarks>
/// Layers, in order: for each block [ActNorm] [InvertibleLinear] ResidualBlock, then a final [ActNorm]. Forward maps data
/// to latent; <see cref="InverseWithStatistics"/> maps latent to data block by block in reverse (fixed-point solves);
/// <see cref="Sample"/> draws from the model.
/// </remarks>
public sealed class InvertibleResNetFlow : nn.Module<Tensor, (Tensor Latent, Tensor LogDet)>, IInvertibleDensityModel
{
    private readonly ModuleList<nn.Module> layers = new();
    private readonly IInvertibleLayer[] invertible;

    /// <summary>Creates a flow on rows of <paramref name="features"/> values.</summary>
    public InvertibleResNetFlow(int features, InvertibleResNetFlowOptions? options = null, Generator? generator = null) : base(nameof(InvertibleResNetFlow))
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "Must be at least 1.");
        Options = options ??= new InvertibleResNetFlowOptions();
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
            layers.Add(new ResidualBlock(features, blockOptions, generator)
            {
                DisplayName = $"residual block {i}", TrainingLogDet = training, EvaluationLogDet = options.EvaluationLogDet,
            });
        }
        if (options.ActNorm)
            layers.Add(new ActNorm(features, options.DType));
        invertible = layers.Cast<IInvertibleLayer>().ToArray();
        RegisterComponents();
    }

    /// <inheritdoc />
    public int Features { get; }

    /// <summary>The options the flow was built with.</summary>
    public InvertibleResNetFlowOptions Options { get; }

    /// <inheritdoc />
    public IReadOnlyList<IInvertibleLayer> Layers => invertible;

    /// <summary>The inverse's options from <see cref="InvertibleResNetFlowOptions.Inverse"/>.</summary>
    public ImplicitOptions DefaultInverseOptions => Options.Inverse;

    /// <summary>Random source for stochastic log-determinant estimators.</summary>
    public Generator? Generator
    {
        set
        {
            foreach (var block in invertible.OfType<ResidualBlockBase>())
                block.Generator = value;
        }
    }

    /// <summary>Latent z = F(x) and log|det J_F(x)| per row.</summary>
    public override (Tensor Latent, Tensor LogDet) forward(Tensor input) => ForwardWithLogDet(input);

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input) => DensityModel.ForwardWithLogDet(invertible, input, Features);

    /// <summary>log p(x) per row, in nats.</summary>
    public Tensor LogProb(Tensor input) => ((IInvertibleDensityModel)this).LogLikelihood(input);

    /// <summary>x = F⁻¹(z), block by block in reverse.</summary>
    public Tensor Inverse(Tensor latent, ImplicitOptions? options = null) => InverseWithStatistics(latent, options).Input;

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor latent, ImplicitOptions? options = null)
        => DensityModel.Inverse(invertible, latent, Features, options ?? DefaultInverseOptions);

    /// <inheritdoc />
    public InverseResult Sample(int count, Generator? generator = null, ImplicitOptions? options = null)
        => DensityModel.Sample(this, parameters().First(), count, generator, options);
}
