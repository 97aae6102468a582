using Invertible.Torch.Core;
using Invertible.Torch.Supervised;
using Invertible.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.ML.Trainers;

/// <summary>
/// The trained model's quality on rows it did not train on: every validated row scored by the cross-fitted member that
/// held it out (with one member, its validation share). An honest estimate of held-out quality without a test set — of
/// a single member; the averaged model usually does a little better.
/// </summary>
/// <param name="Rows">Validated rows.</param>
/// <param name="Accuracy">Classification: the share of rows whose predicted class is right; null for regression.</param>
/// <param name="LogLoss">Classification: the mean cross-entropy in nats; null for regression.</param>
/// <param name="RSquared">Regression: 1 − Σ(y − ŷ)² / Σ(y − ȳ)²; null for classification.</param>
/// <param name="RootMeanSquaredError">Regression: √mean (y − ŷ)²; null for classification.</param>
public sealed record OutOfFoldMetrics(long Rows, double? Accuracy, double? LogLoss, double? RSquared, double? RootMeanSquaredError)
{
    /// <summary>The metrics of out-of-fold <paramref name="scores"/> [rows, outputs] against <paramref name="targets"/>.</summary>
    internal static OutOfFoldMetrics Of(SupervisedTask task, Tensor scores, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var rows = scores.shape[0];
        switch (task)
        {
            case SupervisedTask.MulticlassClassification:
            {
                var classes = targets.to(ScalarType.Int64);
                return new(rows, scores.argmax(1).eq(classes).to(ScalarType.Float64).mean().ReadDouble(),
                    nn.functional.cross_entropy(scores.to(ScalarType.Float64), classes).ReadDouble(), null, null);
            }
            case SupervisedTask.BinaryClassification:
            {
                var logits = scores.squeeze(1).to(ScalarType.Float64);
                var positive = targets.to(ScalarType.Float64);
                return new(rows, logits.Gt(0).to(ScalarType.Float64).eq(positive).to(ScalarType.Float64).mean().ReadDouble(),
                    nn.functional.binary_cross_entropy_with_logits(logits, positive).ReadDouble(), null, null);
            }
            default:
            {
                var truth = targets.to(ScalarType.Float64).view(scores.shape);
                var squared = scores.to(ScalarType.Float64).sub(truth).Square().sum().ReadDouble();
                var total = truth.sub(truth.mean([0])).Square().sum().ReadDouble();
                return new(rows, null, null, total > 0 ? 1 - squared / total : double.NaN, Math.Sqrt(squared / truth.numel()));
            }
        }
    }

    /// <summary>"accuracy 0.9512, log-loss 0.1523 over 1 437 rows" or "R² 0.8712, RMSE 3.1234 over 404 rows".</summary>
    public override string ToString() => Accuracy is { } accuracy
        ? FormattableString.Invariant($"out-of-fold accuracy {accuracy:F4}, log-loss {LogLoss:F4} over {Rows} rows")
        : FormattableString.Invariant($"out-of-fold R² {RSquared:F4}, RMSE {RootMeanSquaredError:G5} over {Rows} rows");
}
