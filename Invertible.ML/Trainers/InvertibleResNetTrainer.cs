using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Invertible.Torch;
using Microsoft.ML.Runtime;
using Microsoft.ML;

namespace Invertible.ML.Trainers;

/// <summary>
/// Trains a multiclass classifier on an invertible residual feature map with a linear head, and on images a ReLU layer beside it (create it with
/// <c>mlContext.MulticlassClassification.Trainers.InvertibleResNet(…)</c>).
/// </summary>
public sealed class InvertibleResNetTrainer : IEstimator<InvertibleMulticlassTransformer>
{
    private readonly IHostEnvironment environment;
    private readonly InvertibleResNetTrainerOptions options;

    /// <summary>Creates the trainer on <paramref name="mlContext"/> (seed and log).</summary>
    public InvertibleResNetTrainer(MLContext mlContext, InvertibleResNetTrainerOptions? options = null)
        : this((IHostEnvironment)(mlContext ?? throw new ArgumentNullException(nameof(mlContext))), options)
    {
    }

    internal InvertibleResNetTrainer(IHostEnvironment environment, InvertibleResNetTrainerOptions? options)
    {
        this.environment = environment;
        this.options = options ?? new InvertibleResNetTrainerOptions();
        this.options.Validate();
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => SupervisedFit.OutputSchema(inputSchema, SupervisedTask.MulticlassClassification, options.FeatureColumnName, options.LabelColumnName);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Bad feature or label column, no rows, or a row holding NaN or ±∞ or a missing label.</exception>
    public InvertibleMulticlassTransformer Fit(IDataView input)
        => (InvertibleMulticlassTransformer)SupervisedFit.Fit(environment, "InvertibleResNetTrainer", input, SupervisedTask.MulticlassClassification, options, (members, inputs, outputs, _, generator) =>
        {
            var architecture = Architecture(inputs);
            return new ModelMembers([.. Enumerable.Range(0, members).Select(_ =>
                (TorchSharp.torch.nn.Module)new InvertibleResNetClassifier(inputs, outputs, SupervisedTask.MulticlassClassification, architecture, generator))]);
        }, options.EffectiveLearningRate, options.Image is { } image && options.ImageShift > 0 ? new RandomShift(image, options.ImageShift.Value) : null);

    /// <summary>Hidden units of the head's ReLU layer on images by default (<see cref="InvertibleResNetTrainerOptions.HeadHidden"/>).</summary>
    private const int ImageHeadHidden = 128;

    /// <summary>The classifier's architecture for rows of <paramref name="inputs"/> features, the data-shape rules filled in.</summary>
    private InvertibleResNetClassifierOptions Architecture(int inputs)
    {
        if (options.Image is not { } image)
            return new()
            {
                Blocks = options.Blocks, Width = options.Width ?? Math.Max(2 * inputs, 32), HiddenFeatures = options.HiddenFeatures ?? Math.Clamp(4 * inputs, 32, 256),
                HeadHidden = options.HeadHidden ?? 0,
                Depth = options.Depth, Coefficient = options.Coefficient, Activation = options.Activation,
            };
        if (image.Size != inputs)
            throw new ArgumentException($"Column '{options.FeatureColumnName}' holds {inputs} values per row, but Image {image} holds {image.Size}.", nameof(options.Image));
        var pixels = image.Height * image.Width;
        var channels = options.Width is { } width ? width / pixels : Math.Max(2 * image.Channels, 4);
        return new()
        {
            Image = image, Blocks = options.Blocks, Width = options.Width ?? channels * pixels,
            HiddenFeatures = options.HiddenFeatures ?? Math.Clamp(8 * channels, 16, 64), HeadHidden = options.HeadHidden ?? ImageHeadHidden,
            Depth = options.Depth, Coefficient = options.Coefficient, Activation = options.Activation,
        };
    }
}
