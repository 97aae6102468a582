using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Torch.Supervised;

/// <summary>
/// What a supervised model's scores mean, by task: the one definition behind <c>SupervisedObjective.Predict</c>, the
/// ML.NET prediction transformers and the outputs of the exported ONNX graphs (written once over a tensor algebra and
/// rendered for TorchSharp and for ONNX).
/// </summary>
/// <param name="Score">Multiclass: the logits [rows, classes]; binary: the logit [rows]; regression: the predictions [rows, outputs].</param>
/// <param name="Probability">Multiclass: the class probabilities (softmax) [rows, classes]; binary: the positive class's [rows]; regression: null.</param>
/// <param name="PredictedLabel">Multiclass: the index of the largest score (int64) [rows]; binary: whether the logit is positive (Boolean) [rows]; regression: null.</param>
public sealed record SupervisedPrediction(Tensor Score, Tensor? Probability, Tensor? PredictedLabel)
{
    /// <summary>The prediction a model of <paramref name="task"/> makes from its scores [rows, outputs].</summary>
    public static SupervisedPrediction Of(SupervisedTask task, Tensor scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var (score, probability, label) = Outputs(new TensorAlgebra(scores), task, scores);
        return new SupervisedPrediction(score, probability, label);
    }

    internal static (T Score, T? Probability, T? PredictedLabel) Outputs<T>(ITensorAlgebra<T> ops, SupervisedTask task, T scores) where T : class
    {
        switch (task)
        {
            case SupervisedTask.MulticlassClassification:
                return (scores, ops.RowSoftmax(scores), ops.RowArgMax(scores));
            case SupervisedTask.BinaryClassification:
                var logit = ops.OnlyColumn(scores);
                return (logit, ops.Sigmoid(logit), ops.IsPositive(logit));
            case SupervisedTask.Regression:
                return (scores, null, null);
            default:
                throw new ArgumentOutOfRangeException(nameof(task), task, "Unknown task.");
        }
    }
}
