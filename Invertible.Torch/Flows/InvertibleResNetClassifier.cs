using System.Text.Json.Nodes;
using Invertible.Torch.Core;
using Invertible.Torch.Layers;
using Invertible.Torch.Persistence;
using Invertible.Torch.Supervised;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>
/// A supervised model on an invertible feature map: scores = H z + c (+ V relu(U z + d) with
/// <see cref="InvertibleResNetClassifierOptions.HeadHidden"/>), z = F([x, 0]), with F an ActNorm followed by invertible
/// residual blocks (a <see cref="ResidualStack"/>, so F loses no information about x and F⁻¹ recovers x from its
/// features) on the input padded with zeros to <see cref="InvertibleResNetClassifierOptions.Width"/>.
/// </summary>
public sealed class InvertibleResNetClassifier : nn.Module<Tensor, Tensor>, ILinearStart, ICheckpointable<InvertibleResNetClassifier>
{
    static string ICheckpointable<InvertibleResNetClassifier>.CheckpointKind => "InvertibleResNetClassifier";

    static int ICheckpointable<InvertibleResNetClassifier>.CheckpointVersion => 1;

    JsonObject ICheckpointable<InvertibleResNetClassifier>.CheckpointArguments() => SupervisedArguments.Of(this, Options);

    static InvertibleResNetClassifier ICheckpointable<InvertibleResNetClassifier>.FromCheckpoint(JsonObject arguments)
    {
        var (inputs, outputs, task, options) = SupervisedArguments.Read<InvertibleResNetClassifierOptions>(arguments);
        return new(inputs, outputs, task, options);
    }

    private readonly ResidualStack features;
    private readonly Linear head;
    private readonly Linear? headHidden, headOutput;

    /// <summary>Creates the model.</summary>
    /// <param name="inputFeatures">Features per row.</param>
    /// <param name="outputs">Classes (multiclass), 1 (binary), or target values per row (regression).</param>
    /// <param name="task">What is predicted.</param>
    /// <param name="options">Architecture.</param>
    /// <param name="generator">Random source of the initial weights (null: the global one).</param>
    public InvertibleResNetClassifier(int inputFeatures, int outputs, SupervisedTask task, InvertibleResNetClassifierOptions? options = null, Generator? generator = null)
        : base(nameof(InvertibleResNetClassifier))
    {
        options ??= new InvertibleResNetClassifierOptions();
        options.Validate();
        task.CheckShape(inputFeatures, outputs);
        (Options, InputFeatures, Outputs, Task) = (options, inputFeatures, outputs, task);
        Width = Math.Max(options.Width ?? inputFeatures, inputFeatures);
        var blockOptions = new ResidualBlockOptions
        {
            HiddenFeatures = options.HiddenFeatures, Depth = options.Depth, Coefficient = options.Coefficient,
            Activation = options.Activation, PowerIterations = options.PowerIterations, DType = options.DType,
        };
        var layers = new List<nn.Module> { new ActNorm(Width, options.DType) };
        if (options.Image is { } image)
        {
            var shape = PaddedImage(image, inputFeatures, Width);
            void Squeeze()
            {
                var squeeze = new SpaceToDepth(shape);
                layers.Add(squeeze);
                shape = squeeze.Output;
            }
            for (var i = options.InputSqueezesFor(shape); i > 0; i--)
                Squeeze();
            var scales = options.ScalesFor(shape);
            for (var i = 0; i < options.Blocks; i++)
            {
                // Block i belongs to scale ⌊i · scales / blocks⌋; a squeeze opens every scale after the first.
                if (i > 0 && i * scales / options.Blocks != (i - 1) * scales / options.Blocks)
                    Squeeze();
                layers.Add(new ResidualBlock(ContractiveMlp.Convolutional(shape, options.HiddenFeatures, options.Depth, options.Coefficient,
                    options.Activation, options.PowerIterations, options.DType, generator)));
            }
        }
        else
        {
            for (var i = 0; i < options.Blocks; i++)
                layers.Add(new ResidualBlock(Width, blockOptions, generator));
        }
        features = new ResidualStack(layers);
        head = nn.Linear(Width, outputs, dtype: options.DType);
        Initialization.Linear(head, generator);
        if (options.HeadHidden > 0)
        {
            headHidden = nn.Linear(Width, options.HeadHidden, dtype: options.DType);
            Initialization.Linear(headHidden, generator);
            headOutput = nn.Linear(options.HeadHidden, outputs, dtype: options.DType);
            ZeroHeadOutput();
        }
        RegisterComponents();
    }

    // The feature map's images: the input's, with the zero padding as whole extra channels.
    private static ImageShape PaddedImage(ImageShape image, int inputFeatures, int width)
    {
        if (image.Size != inputFeatures)
            throw new ArgumentException($"The image shape {image} holds {image.Size} values, but rows have {inputFeatures} features.", "options");
        var pixels = image.Height * image.Width;
        if (width % pixels != 0)
            throw new ArgumentException($"Width {width} must be a multiple of the image's {image.Height}×{image.Width} = {pixels} pixels (it pads whole channels).", "options");
        return image with { Channels = width / pixels };
    }

    /// <summary>The architecture the model was built with.</summary>
    public InvertibleResNetClassifierOptions Options { get; }

    /// <inheritdoc />
    public int InputFeatures { get; }

    /// <inheritdoc />
    public int Outputs { get; }

    /// <inheritdoc />
    public SupervisedTask Task { get; }

    /// <summary>Width of the feature map (the input padded with zeros).</summary>
    public int Width { get; }

    /// <summary>The invertible feature map F.</summary>
    public ResidualStack FeatureMap => features;

    /// <summary>The head's linear part z ↦ H z + c.</summary>
    public Linear Head => head;

    /// <summary>The head's nonlinear part (U, d) and (V, e) of z ↦ V relu(U z + d) + e, or null when the head is linear.</summary>
    public (Linear Hidden, Linear Output)? HeadMlp => headHidden is null ? null : (headHidden, headOutput!);

    private void ZeroHeadOutput()
    {
        using var _ = no_grad();
        headOutput?.weight!.zero_();
        headOutput?.bias!.zero_();
    }

    /// <summary>
    /// Makes the model the linear model x ↦ W x + b exactly: F becomes the identity (ActNorm initialised to it, every
    /// residual branch zero), the head's linear part takes (W, b) and its nonlinear part is zeroed; training then adds
    /// what the invertible features and the nonlinear head earn.
    /// </summary>
    public void InitializeLinear(Tensor weight, Tensor bias)
    {
        using var _ = no_grad();
        foreach (var layer in features.Layers)
        {
            if (layer is ActNorm actNorm)
                actNorm.Initialize(zeros(Width), zeros(Width));
            if (layer is ResidualBlockBase block)
                block.Residual.ZeroOutput();
        }
        // F is now a permutation P of the padded input (the identity, or the squeezes), so H = W_pad Pᵀ: each row of
        // H is P applied to the padded row of W.
        var padded = zeros(weight.shape[0], Width, dtype: head.weight!.dtype, device: head.weight.device);
        padded[.., ..InputFeatures].copy_(weight);
        head.weight.copy_(features.call(padded));
        head.bias!.copy_(bias);
        ZeroHeadOutput();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Evaluate(input).Scores;

    /// <inheritdoc />
    public SupervisedOutput Evaluate(Tensor input)
    {
        RowInput.Check(input, InputFeatures, nameof(input));
        var padded = Width == InputFeatures ? input : nn.functional.pad(input, [0, Width - InputFeatures]);
        var z = features.call(padded);
        var scores = head.call(z);
        return new(headHidden is null ? scores : scores.Add(headOutput!.call(nn.functional.relu(headHidden.call(z)))));
    }
}
