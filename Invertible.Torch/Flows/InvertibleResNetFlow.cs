using System.Text.Json;
using System.Text.Json.Nodes;
using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.LogDet;
using Invertible.Torch.Persistence;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>
/// A normalizing flow of invertible residual blocks (i-ResNet / Residual Flows) with a standard normal base:
/// log p(x) = log N(F(x); 0, I) + log|det J_F(x)| (the contract and its sign rule: <see cref="IInvertibleDensityModel"/>).
/// </summary>
/// <remarks>
/// Layers, in order: [Logit], then for each block [ActNorm] [InvertibleLinear] ResidualBlock, then a final [ActNorm]; on images
/// (<see cref="InvertibleResNetFlowOptions.Image"/>) the multi-scale convolutional form described there. Forward maps data
/// to latent; <see cref="InverseWithStatistics"/> maps latent to data block by block in reverse (fixed-point solves);
/// <see cref="Sample"/> draws from the model.
/// </remarks>
public sealed class InvertibleResNetFlow : nn.Module<Tensor, (Tensor Latent, Tensor LogDet)>, IInvertibleDensityModel, ICheckpointable<InvertibleResNetFlow>
{
    static string ICheckpointable<InvertibleResNetFlow>.CheckpointKind => "InvertibleResNetFlow";

    static int ICheckpointable<InvertibleResNetFlow>.CheckpointVersion => 1;

    JsonObject ICheckpointable<InvertibleResNetFlow>.CheckpointArguments() => new() { ["features"] = Features, ["options"] = JsonSerializer.SerializeToNode(Options, Checkpoint.Json) };

    static InvertibleResNetFlow ICheckpointable<InvertibleResNetFlow>.FromCheckpoint(JsonObject arguments) => new(Checkpoint.Read<int>(arguments, "features"), Checkpoint.Read<InvertibleResNetFlowOptions>(arguments, "options"));

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
        var evaluation = options.EvaluationLogDetFor(features);
        if (options.LogitAlpha is { } alpha)
            layers.Add(new Logit(features, alpha));
        if (options.Image is { } image)
        {
            if (image.Size != features)
                throw new ArgumentException($"The image shape {image} holds {image.Size} values, but rows have {features} features.", nameof(options));
            AddImageLayers(image, options, training, evaluation, generator);
        }
        else
            AddDenseLayers(features, options, training, evaluation, generator);
        invertible = layers.Cast<IInvertibleLayer>().ToArray();
        RegisterComponents();
    }

    private void AddDenseLayers(int features, InvertibleResNetFlowOptions options, LogDetOptions training, LogDetOptions evaluation, Generator? generator)
    {
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
                DisplayName = $"residual block {i}", TrainingLogDet = training, EvaluationLogDet = evaluation,
            });
        }
        if (options.ActNorm)
            layers.Add(new ActNorm(features, options.DType));
    }

    // Scale s works on the leading features: all of them at first, half of the channels less at each later scale.
    private void AddImageLayers(ImageShape image, InvertibleResNetFlowOptions options, LogDetOptions training, LogDetOptions evaluation, Generator? generator)
    {
        var shape = image;
        var scales = options.ScalesFor(image);
        void Add(nn.Module layer) => layers.Add(shape.Size == image.Size ? layer : new LeadingFeatures(layer, image.Size));
        for (var scale = 0; scale < scales; scale++)
        {
            if (scale > 0)
                shape = shape with { Channels = shape.Channels / 2 };
            var squeeze = new SpaceToDepth(shape);
            Add(squeeze);
            shape = squeeze.Output;
            for (var i = 0; i < options.Blocks; i++)
            {
                if (options.ActNorm)
                    Add(ActNorm.PerChannel(shape, options.DType));
                if (options.InvertibleLinear)
                    Add(InvertibleLinear.PerPixel(shape, options.DType, generator));
                Add(new ResidualBlock(ContractiveMlp.Convolutional(shape, options.HiddenFeatures, options.Depth, options.Coefficient,
                    options.Activation, options.PowerIterations, options.DType, generator))
                {
                    DisplayName = $"scale {scale} residual block {i}", TrainingLogDet = training, EvaluationLogDet = evaluation,
                });
            }
            if (options.ActNorm)
                Add(ActNorm.PerChannel(shape, options.DType));
        }
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
            foreach (var block in modules().OfType<ResidualBlockBase>())
                block.Generator = value;
        }
    }

    /// <summary>
    /// Makes the flow exactly the Gaussian N(μ, Σ') with Σ' = Σ + λ · mean(diag Σ) · I: the first ActNorm standardises
    /// with μ and diag Σ', the first InvertibleLinear decorrelates with L⁻¹ where L Lᵀ is the Cholesky factorisation of
    /// the correlation matrix of Σ', every other ActNorm and InvertibleLinear is the identity, and every residual
    /// block's g is zero. Training then adds to the Gaussian only what the data support.
    /// </summary>
    /// <param name="mean">μ, [features].</param>
    /// <param name="covariance">Σ, [features, features], symmetric positive semi-definite.</param>
    /// <param name="regularization">λ ≥ 0, relative to the mean variance; keeps Σ' positive definite when features are
    /// constant or collinear. Default 1e-3.</param>
    /// <exception cref="InvalidOperationException">The flow has no ActNorm or no InvertibleLinear layers.</exception>
    public void InitializeGaussian(Tensor mean, Tensor covariance, double regularization = 1e-3)
    {
        if (!Options.ActNorm || !Options.InvertibleLinear)
            throw new InvalidOperationException("A Gaussian start needs ActNorm and InvertibleLinear layers (set both options).");
        if (Options.Image is not null)
            throw new InvalidOperationException("A Gaussian start needs a dense flow; an image flow's layers act on channels and scales.");
        if (!mean.shape.SequenceEqual([Features]) || !covariance.shape.SequenceEqual([Features, Features]))
            throw new ArgumentException($"Expected a mean of shape [{Features}] and a covariance of shape [{Features}, {Features}].");
        if (!(regularization >= 0) || double.IsInfinity(regularization))
            throw new ArgumentOutOfRangeException(nameof(regularization), regularization, "Must be finite and non-negative.");
        RowInput.CheckFinite(mean, nameof(mean));
        RowInput.CheckFinite(covariance, nameof(covariance));
        using var _ = no_grad();
        var sigma = covariance.to(ScalarType.Float64);
        sigma = sigma.Add(sigma.t()).Div(2);
        var floor = Math.Max(sigma.diagonal().mean().ReadDouble(), 1e-12) * regularization;
        sigma = sigma.Add(eye(Features, dtype: ScalarType.Float64).Mul(floor));
        var std = sigma.diagonal().sqrt();
        var correlation = sigma.div(std.outer(std));
        var (cholesky, info) = linalg.cholesky_ex(correlation);
        if (info.ReadInt64() != 0)
            throw new ArgumentException("The covariance is not positive semi-definite.", nameof(covariance));

        var firstActNorm = true;
        var firstLinear = true;
        foreach (var layer in invertible)
        {
            switch (layer)
            {
                case ActNorm actNorm:
                    actNorm.Initialize(firstActNorm ? mean.to(ScalarType.Float64).neg() : zeros(Features, dtype: ScalarType.Float64),
                        firstActNorm ? std.log().neg() : zeros(Features, dtype: ScalarType.Float64));
                    firstActNorm = false;
                    break;
                case InvertibleLinear linear:
                    linear.Initialize(firstLinear ? linalg.inv(cholesky) : eye(Features, dtype: ScalarType.Float64));
                    firstLinear = false;
                    break;
                case ResidualBlockBase block:
                    block.Residual.ZeroOutput();
                    break;
            }
        }
    }

    /// <summary>The Gaussian start (<see cref="InitializeGaussian(Tensor, Tensor, double)"/>) fitted to the rows of
    /// <paramref name="data"/> (after the logit transform when <see cref="InvertibleResNetFlowOptions.LogitAlpha"/> is set).</summary>
    public void InitializeGaussian(Tensor data, double regularization = 1e-3)
    {
        RowInput.Check(data, Features, nameof(data));
        using var _ = no_grad();
        // The Gaussian is fitted to what the first ActNorm sees: the values after the logit transform, if any.
        var rows = (invertible.FirstOrDefault() is Logit logit ? logit.forward(data).Output : data).to(ScalarType.Float64);
        var mean = rows.mean([0]);
        var centred = rows.sub(mean);
        InitializeGaussian(mean, centred.t().mm(centred).Div(rows.shape[0]), regularization);
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
