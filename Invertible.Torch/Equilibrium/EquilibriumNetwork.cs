using System.Text.Json.Nodes;
using Invertible.Torch.Core;
using Invertible.Torch.Persistence;
using Invertible.Torch.Supervised;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// Input projection → equilibrium layer → linear head, for multiclass or binary classification or regression:
/// scores = H z* + c (+ S x + s with a linear skip path) with z* = f(z*, P x + p). On images
/// (<see cref="EquilibriumNetworkOptions.Image"/>) the convolutional monotone cell reads the image itself and the head
/// reads its feature maps average-pooled: scores = H pool(z*) + c (+ S x + s).
/// </summary>
public sealed class EquilibriumNetwork : nn.Module<Tensor, Tensor>, ILinearStart, ICheckpointable<EquilibriumNetwork>
{
    static string ICheckpointable<EquilibriumNetwork>.CheckpointKind => "EquilibriumNetwork";

    static int ICheckpointable<EquilibriumNetwork>.CheckpointVersion => 1;

    JsonObject ICheckpointable<EquilibriumNetwork>.CheckpointArguments() => SupervisedArguments.Of(this, Options);

    static EquilibriumNetwork ICheckpointable<EquilibriumNetwork>.FromCheckpoint(JsonObject arguments)
    {
        var (inputs, outputs, task, options) = SupervisedArguments.Read<EquilibriumNetworkOptions>(arguments);
        return new(inputs, outputs, task, options);
    }

    private readonly Linear? projection;
    private readonly EquilibriumLayer equilibrium;
    private readonly Linear head;
    private readonly Linear? skip;

    /// <summary>Creates the network.</summary>
    /// <param name="inputFeatures">Features per row.</param>
    /// <param name="outputs">Classes (multiclass), 1 (binary), or target values per row (regression).</param>
    /// <param name="task">What is predicted.</param>
    /// <param name="options">Architecture.</param>
    /// <param name="generator">Random source of the initial weights (null: the global one).</param>
    public EquilibriumNetwork(int inputFeatures, int outputs, SupervisedTask task, EquilibriumNetworkOptions? options = null, Generator? generator = null)
        : base(nameof(EquilibriumNetwork))
    {
        options ??= new EquilibriumNetworkOptions();
        options.Validate();
        task.CheckShape(inputFeatures, outputs);
        Options = options;
        InputFeatures = inputFeatures;
        Outputs = outputs;
        Task = task;
        IEquilibriumFunction cell;
        int headFeatures;
        if (options.Image is { } image)
        {
            if (inputFeatures != image.Size)
                throw new ArgumentException($"The image option says {image} = {image.Size} values per row, but the rows have {inputFeatures} features.", nameof(inputFeatures));
            Pooling = options.PoolingFor(image);
            var convolutional = new ConvolutionalMonotoneCell(image, options.StateChannels, options.StrideFor(image), dtype: options.DType, generator: generator);
            cell = convolutional;
            headFeatures = options.StateChannels * (convolutional.State.Height / Pooling) * (convolutional.State.Width / Pooling);
        }
        else
        {
            projection = nn.Linear(inputFeatures, options.InjectionFeatures, dtype: options.DType);
            cell = options.Monotone
                ? new MonotoneCell(options.StateFeatures, options.InjectionFeatures, dtype: options.DType, generator: generator)
                : new EquilibriumCell(options.StateFeatures, options.InjectionFeatures, options.Coefficient, options.Activation, options.DType, generator: generator);
            headFeatures = options.StateFeatures;
        }
        equilibrium = new EquilibriumLayer(cell, options.Equilibrium);
        head = nn.Linear(headFeatures, outputs, dtype: options.DType);
        skip = options.LinearSkip ? nn.Linear(inputFeatures, outputs, dtype: options.DType) : null;
        foreach (var layer in new[] { projection, head, skip })
            if (layer is not null)
                Initialization.Linear(layer, generator);
        RegisterComponents();
    }

    /// <summary>The architecture the network was built with.</summary>
    public EquilibriumNetworkOptions Options { get; }

    /// <summary>Features per row.</summary>
    public int InputFeatures { get; }

    /// <summary>Scores per row.</summary>
    public int Outputs { get; }

    /// <summary>What is predicted.</summary>
    public SupervisedTask Task { get; }

    /// <summary>The input projection x ↦ P x + p; null on images, whose cell injects the image itself.</summary>
    public Linear? Projection => projection;

    /// <summary>Images: the side of the average-pooling window between the equilibrium's feature maps and the head; 1 on rows.</summary>
    public int Pooling { get; } = 1;

    /// <summary>What the head reads: z*, or on images z*'s feature maps average-pooled over <see cref="Pooling"/>² windows.</summary>
    public Tensor HeadFeatures(Tensor state)
    {
        if (equilibrium.Function is not ConvolutionalMonotoneCell cell)
            return state;
        var maps = cell.State.Images(state);
        return (Pooling == 1 ? maps : nn.functional.avg_pool2d(maps, Pooling, Pooling)).flatten(1);
    }

    /// <summary>The linear path x ↦ S x + s added to the scores (<see cref="EquilibriumNetworkOptions.LinearSkip"/>), or null.</summary>
    public Linear? Skip => skip;

    /// <summary>
    /// Makes the network the linear model x ↦ W x + b exactly: the skip path takes (W, b) and the head is zeroed, so
    /// training starts from a fitted linear model and adds to it only what the equilibrium features earn.
    /// </summary>
    /// <exception cref="InvalidOperationException">The network has no linear skip path.</exception>
    public void InitializeLinear(Tensor weight, Tensor bias)
    {
        if (skip is null)
            throw new InvalidOperationException("The network has no linear skip path (set EquilibriumNetworkOptions.LinearSkip).");
        using var _ = no_grad();
        skip.weight!.copy_(weight);
        skip.bias!.copy_(bias);
        head.weight!.zero_();
        head.bias!.zero_();
    }

    /// <summary>The output head z ↦ H z + c.</summary>
    public Linear Head => head;

    /// <summary>The equilibrium layer (statistics, options).</summary>
    public EquilibriumLayer Layer => equilibrium;

    /// <summary>Scores: logits (classification) or predicted values (regression), [batch, outputs].</summary>
    public override Tensor forward(Tensor input) => Evaluate(input).Scores;

    /// <inheritdoc />
    public SupervisedOutput Evaluate(Tensor input)
    {
        RowInput.Check(input, InputFeatures, nameof(input));
        using var _ = RowInput.Trusted();
        var result = equilibrium.Solve(projection is null ? input : projection.call(input));
        var scores = head.call(HeadFeatures(result.State));
        return new SupervisedOutput(skip is null ? scores : scores.Add(skip.call(input)), result.Statistics, result.JacobianPenalty);
    }
}
