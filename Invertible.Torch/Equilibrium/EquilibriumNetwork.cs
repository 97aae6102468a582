using Invertible.Torch.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// Input projection → equilibrium layer → linear head, for multiclass or binary classification or regression:
/// scores = H z* + c with z* = f(z*, P x + p).
/// </summary>
public sealed class EquilibriumNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Linear projection;
    private readonly EquilibriumLayer equilibrium;
    private readonly Linear head;
    private EquilibriumResult? pendingBackward;

    /// <summary>Creates the network.</summary>
    /// <param name="inputFeatures">Features per row.</param>
    /// <param name="outputs">Classes (multiclass), 1 (binary), or target values per row (regression).</param>
    /// <param name="task">What is predicted.</param>
    /// <param name="options">Architecture.</param>
    public EquilibriumNetwork(int inputFeatures, int outputs, EquilibriumTask task, EquilibriumNetworkOptions? options = null) : base(nameof(EquilibriumNetwork))
    {
        options ??= new EquilibriumNetworkOptions();
        options.Validate();
        if (inputFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inputFeatures), inputFeatures, "Must be at least 1.");
        if (outputs < 1) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "Must be at least 1.");
        if (task == EquilibriumTask.MulticlassClassification && outputs < 2)
            throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "Multiclass classification needs at least 2 classes.");
        if (task == EquilibriumTask.BinaryClassification && outputs != 1)
            throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "Binary classification has exactly 1 output (a logit).");
        InputFeatures = inputFeatures;
        Outputs = outputs;
        Task = task;
        projection = nn.Linear(inputFeatures, options.InjectionFeatures, dtype: options.DType);
        IEquilibriumFunction cell = options.Monotone
            ? new MonotoneCell(options.StateFeatures, options.InjectionFeatures, dtype: options.DType)
            : new EquilibriumCell(options.StateFeatures, options.InjectionFeatures, options.Coefficient, options.Activation, options.DType);
        equilibrium = new EquilibriumLayer(cell, options.Equilibrium);
        head = nn.Linear(options.StateFeatures, outputs, dtype: options.DType);
        RegisterComponents();
    }

    /// <summary>Features per row.</summary>
    public int InputFeatures { get; }

    /// <summary>Scores per row.</summary>
    public int Outputs { get; }

    /// <summary>What is predicted.</summary>
    public EquilibriumTask Task { get; }

    /// <summary>The input projection x ↦ P x + p.</summary>
    public Linear Projection => projection;

    /// <summary>The output head z ↦ H z + c.</summary>
    public Linear Head => head;

    /// <summary>The equilibrium layer (statistics, options).</summary>
    public EquilibriumLayer Layer => equilibrium;

    /// <summary>Scores: logits (classification) or predicted values (regression), [batch, outputs].</summary>
    public override Tensor forward(Tensor input)
    {
        RowInput.Check(input, InputFeatures, nameof(input));
        return head.call(equilibrium.call(projection.call(input)));
    }

    /// <summary>Class indices (multiclass), probabilities of the positive class (binary) or values (regression).</summary>
    public Tensor Predict(Tensor input)
    {
        using var _ = no_grad();
        var scores = forward(input);
        return Task switch
        {
            EquilibriumTask.MulticlassClassification => scores.argmax(1),
            EquilibriumTask.BinaryClassification => sigmoid(scores.squeeze(1)),
            _ => scores,
        };
    }

    /// <summary>
    /// Mean loss on a batch (cross-entropy, binary cross-entropy with logits, or squared error), plus the Jacobian
    /// penalty when enabled.
    /// </summary>
    /// <param name="input">[batch, features].</param>
    /// <param name="target">Class indices (int64, multiclass), 0/1 labels (binary) or [batch, outputs] values (regression).</param>
    public Tensor Loss(Tensor input, Tensor target)
    {
        var scores = forward(input);
        var loss = Task switch
        {
            EquilibriumTask.MulticlassClassification => nn.functional.cross_entropy(scores, target.to(ScalarType.Int64)),
            EquilibriumTask.BinaryClassification => nn.functional.binary_cross_entropy_with_logits(scores.squeeze(1), target.to(scores.dtype)),
            _ => nn.functional.mse_loss(scores, target.to(scores.dtype).view(scores.shape)),
        };
        return equilibrium.LastResult?.JacobianPenalty is { } penalty ? loss.add(penalty) : loss;
    }

    /// <summary>
    /// A <see cref="MinibatchLoss"/> for <see cref="Trainer"/> over [features, target] that also reports the solver
    /// iterations ("forward iterations"; "backward iterations" of the previous step, whose backward has run by then).
    /// </summary>
    public Tensor TrainingLoss(IReadOnlyList<Tensor> batch, TrainingMetrics metrics)
    {
        if (pendingBackward?.Statistics.Backward is { } backward)
            metrics.Add("backward iterations", backward.Iterations);
        var loss = Loss(batch[0], batch[1]);
        var result = equilibrium.LastResult!;
        metrics.Add("forward iterations", result.Statistics.Forward.Iterations);
        metrics.Add("forward residual", result.Statistics.Forward.RelativeResidual);
        pendingBackward = training ? result : null;
        return loss;
    }
}
