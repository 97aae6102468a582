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
            {
                if (options.ConditionalFactorOut)
                    Add(new ConditionalFactorOut(shape, options.DType));
                shape = ConditionalFactorOut.KeptChannels(shape);
            }
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
        if (options.FullCovariance)
        {
            nn.Module[] dense = [new ActNorm(image.Size, options.DType), new InvertibleLinear(image.Size, options.DType, generator)];
            // Fitted in closed form (InitializeGaussian), not trained: d² values from a few thousand images overfit from
            // the first steps (Fashion-MNIST, one class: held-out NLL −380 after one epoch trained vs −924 at the start).
            foreach (var parameter in dense.SelectMany(layer => layer.parameters()))
                parameter.requires_grad = false;
            foreach (var layer in dense)
                layers.Add(layer);
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
    /// Makes the flow exactly the Gaussian N(μ, Σ') with Σ' = Σ + λ · mean(diag Σ) · I: the Gaussian's ActNorm standardises
    /// with μ and diag Σ', its InvertibleLinear decorrelates with L⁻¹ where L Lᵀ is the Cholesky factorisation of the
    /// correlation matrix of Σ', every other ActNorm and InvertibleLinear is the identity, and every residual block's g
    /// is zero. The Gaussian's layers are the first ActNorm and InvertibleLinear of a dense flow, and the dense ones at
    /// the end of an image flow (<see cref="InvertibleResNetFlowOptions.FullCovariance"/>), which see the pixels in the
    /// order the squeezes leave them. Training then adds to the Gaussian only what the data support.
    /// </summary>
    /// <param name="mean">μ, [features], of the values after the logit transform when there is one.</param>
    /// <param name="covariance">Σ, [features, features], symmetric positive semi-definite.</param>
    /// <param name="regularization">λ ≥ 0, relative to the mean variance; keeps Σ' positive definite when features are
    /// constant or collinear. Default 1e-3.</param>
    /// <exception cref="InvalidOperationException">The flow has no ActNorm or no InvertibleLinear layers, or is an image
    /// flow without <see cref="InvertibleResNetFlowOptions.FullCovariance"/>.</exception>
    public void InitializeGaussian(Tensor mean, Tensor covariance, double regularization = 1e-3)
    {
        if (!Options.ActNorm || !Options.InvertibleLinear)
            throw new InvalidOperationException("A Gaussian start needs ActNorm and InvertibleLinear layers (set both options).");
        if (Options.Image is not null && !Options.FullCovariance)
            throw new InvalidOperationException("A Gaussian start of an image flow needs its dense layers at the end (set FullCovariance).");
        if (!mean.shape.SequenceEqual([Features]) || !covariance.shape.SequenceEqual([Features, Features]))
            throw new ArgumentException($"Expected a mean of shape [{Features}] and a covariance of shape [{Features}, {Features}].");
        if (!(regularization >= 0) || double.IsInfinity(regularization))
            throw new ArgumentOutOfRangeException(nameof(regularization), regularization, "Must be finite and non-negative.");
        RowInput.CheckFinite(mean, nameof(mean));
        RowInput.CheckFinite(covariance, nameof(covariance));
        using var _ = no_grad();
        var gaussian = Options.Image is null ? invertible.Count(layer => layer is Logit) : invertible.Length - 2;
        var norm = (ActNorm)invertible.Skip(gaussian).First(layer => layer is ActNorm);
        var linear = (InvertibleLinear)invertible.Skip(gaussian).First(layer => layer is InvertibleLinear);
        // The layers themselves, unwrapped from the later scales' LeadingFeatures.
        var inner = invertible.Select(layer => layer is LeadingFeatures leading ? leading.Layer : layer).ToArray();
        foreach (var layer in inner)
        {
            switch (layer)
            {
                case ActNorm actNorm:
                    actNorm.Initialize(zeros(actNorm.Bias.shape[0], dtype: ScalarType.Float64), zeros(actNorm.Bias.shape[0], dtype: ScalarType.Float64));
                    break;
                case InvertibleLinear invertibleLinear:
                    invertibleLinear.Initialize(eye(invertibleLinear.Image?.Channels ?? invertibleLinear.Features, dtype: ScalarType.Float64));
                    break;
                case ResidualBlockBase block:
                    block.Residual.ZeroOutput();
                    break;
            }
        }

        // Every other layer is now the identity, so what reaches the Gaussian's layers is the values permuted by the
        // squeezes, P x (the logit aside): they see P μ and P Σ Pᵀ. SpaceToDepth is exact in any dtype.
        var squeezes = invertible.Take(gaussian).Where((_, i) => inner[i] is SpaceToDepth).ToArray();
        Tensor Permute(Tensor rows) => squeezes.Aggregate(rows, (x, squeeze) => squeeze.ForwardWithLogDet(x).Output);
        var sigma = covariance.to(ScalarType.Float64);
        sigma = sigma.Add(sigma.t()).Div(2);
        var permutedMean = Permute(mean.to(ScalarType.Float64).unsqueeze(0)).squeeze(0);
        sigma = Permute(Permute(sigma).t());
        var floor = Math.Max(sigma.diagonal().mean().ReadDouble(), 1e-12) * regularization;
        sigma = sigma.Add(eye(Features, dtype: ScalarType.Float64).Mul(floor));
        var std = sigma.diagonal().sqrt();
        var correlation = sigma.div(std.outer(std));
        var (cholesky, info) = linalg.cholesky_ex(correlation);
        if (info.ReadInt64() != 0)
            throw new ArgumentException("The covariance is not positive semi-definite.", nameof(covariance));
        norm.Initialize(permutedMean.neg(), std.log().neg());
        linear.Initialize(linalg.inv(cholesky));
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
