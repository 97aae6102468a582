using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Supervised;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Training;

/// <summary>Losses and predictions of <see cref="ISupervisedModel"/>s by task.</summary>
public static class SupervisedObjective
{
    /// <summary>
    /// Mean loss of <paramref name="scores"/> against <paramref name="target"/>: cross-entropy (class indices, int64),
    /// binary cross-entropy with logits (0/1 labels) or squared error ([batch, outputs] values). Classification targets
    /// may be smoothed: the true class keeps 1 − ε of the probability and ε is spread evenly over all classes.
    /// </summary>
    public static Tensor Loss(SupervisedTask task, Tensor scores, Tensor target, double labelSmoothing = 0) => task switch
    {
        SupervisedTask.MulticlassClassification => nn.functional.cross_entropy(scores, target.to(ScalarType.Int64), label_smoothing: labelSmoothing),
        SupervisedTask.BinaryClassification => nn.functional.binary_cross_entropy_with_logits(scores.squeeze(1),
            labelSmoothing > 0 ? target.to(scores.dtype).Mul(1 - labelSmoothing).Add(labelSmoothing / 2) : target.to(scores.dtype)),
        _ => nn.functional.mse_loss(scores, target.to(scores.dtype).view(scores.shape)),
    };

    /// <summary>
    /// Each row's loss (<see cref="Loss(SupervisedTask, Tensor, Tensor, double)"/> without the mean), [rows]; regression
    /// averages the squared errors over the outputs.
    /// </summary>
    public static Tensor RowLosses(SupervisedTask task, Tensor scores, Tensor target, double labelSmoothing = 0) => task switch
    {
        SupervisedTask.MulticlassClassification => nn.functional.cross_entropy(scores, target.to(ScalarType.Int64), reduction: nn.Reduction.None, label_smoothing: labelSmoothing),
        SupervisedTask.BinaryClassification => nn.functional.binary_cross_entropy_with_logits(scores.squeeze(1),
            labelSmoothing > 0 ? target.to(scores.dtype).Mul(1 - labelSmoothing).Add(labelSmoothing / 2) : target.to(scores.dtype), reduction: nn.Reduction.None),
        _ => scores.sub(target.to(scores.dtype).view(scores.shape)).Square().mean([1]),
    };

    /// <summary>The model's mean loss on a batch plus its regularisation penalty, if any.</summary>
    public static Tensor Loss(ISupervisedModel model, Tensor input, Tensor target) => Loss(model, model.Evaluate(input), target);

    /// <summary>Class indices (multiclass), probabilities of the positive class (binary) or values (regression), without gradients.</summary>
    public static Tensor Predict(ISupervisedModel model, Tensor input)
    {
        using var _ = no_grad();
        var prediction = SupervisedPrediction.Of(model.Task, model.Evaluate(input).Scores);
        return model.Task switch
        {
            SupervisedTask.MulticlassClassification => prediction.PredictedLabel!,
            SupervisedTask.BinaryClassification => prediction.Probability!,
            _ => prediction.Score,
        };
    }

    /// <summary>
    /// A <see cref="MinibatchLoss"/> for <see cref="Trainer"/> over [features, target] that also reports what the
    /// model's solves did: "forward iterations", "forward residual", and "backward iterations" of the previous training
    /// step (whose backward has run by then).
    /// </summary>
    public static MinibatchLoss For(ISupervisedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ImplicitSolveStatistics? pendingBackward = null;
        return (batch, metrics) =>
        {
            if (pendingBackward?.Backward is { } backward)
                metrics.Add("backward iterations", backward.Iterations);
            var output = model.Evaluate(batch[0]);
            if (output.Solve is { } solve)
            {
                metrics.Add("forward iterations", solve.Forward.Iterations);
                metrics.Add("forward residual", solve.Forward.RelativeResidual);
            }
            pendingBackward = model is nn.Module { training: true } ? output.Solve : null;
            return Loss(model, output, batch[1]);
        };
    }

    private static Tensor Loss(ISupervisedModel model, SupervisedOutput output, Tensor target)
    {
        var loss = Loss(model.Task, output.Scores, target);
        return output.Penalty is { } penalty ? loss.Add(penalty) : loss;
    }
}
