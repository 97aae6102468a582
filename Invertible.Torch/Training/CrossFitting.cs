using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Training;

/// <summary>
/// Training an ensemble by cross-fitting: every row carries a fold number, member k trains on the rows outside fold k
/// and is validated on fold k, so that the validation loss is an out-of-fold loss over the validated rows and every row
/// trains all members but one.
/// </summary>
public static class CrossFitting
{
    /// <summary>Weight of the cross-entropy beside the error in the classification validation score: it only breaks ties.</summary>
    public const double TieBreakWeight = 0.01;

    /// <summary>
    /// The loss over batches [features, target, fold (int64)]. In training, the sum over members of member k's mean loss
    /// on the batch rows outside fold k (with label smoothing ε and Gaussian input noise of standard deviation σ in the
    /// scaled units). In evaluation, the mean over the batch of each row's score under the member of its fold (a
    /// validation source holds validated rows only: folds below the member count), so that early stopping selects on
    /// held-out rows: for classification the error (1 for a misclassified row) plus <see cref="TieBreakWeight"/> times
    /// its cross-entropy when <paramref name="selectOnError"/> is set, else the plain loss. Reports the solves'
    /// "forward iterations", "forward residual" and "backward iterations".
    /// </summary>
    public static MinibatchLoss Loss(SupervisedEnsemble ensemble, double labelSmoothing = 0, double inputNoise = 0, bool selectOnError = false, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Must lie in [0, 1).");
        if (!(inputNoise >= 0 && double.IsFinite(inputNoise))) throw new ArgumentOutOfRangeException(nameof(inputNoise), inputNoise, "Must be finite and non-negative.");
        ImplicitSolveStatistics? pending = null;
        var members = ensemble.Members;
        var task = ensemble.Task;
        return (batch, metrics) =>
        {
            if (batch.Count < 3)
                throw new ArgumentException("Cross-fitting batches hold [features, target, fold].", nameof(batch));
            if (pending?.Backward is { } backward)
                metrics.Add("backward iterations", backward.Iterations);
            var training = ensemble.training;
            var (features, target, fold) = (batch[0], batch[1], batch[2]);
            var rows = features.shape[0];
            var scaled = ensemble.Scaling.call(features);
            if (training && inputNoise > 0)
                scaled = scaled.Add(randn(scaled.shape, dtype: scaled.dtype, device: scaled.device, generator: generator).MulInPlace(inputNoise));
            // Members of a regression predict standardised targets (the ensemble maps them back).
            if (task == SupervisedTask.Regression)
                target = target.view(rows, -1).to(ensemble.OutputShift.dtype).sub(ensemble.OutputShift).div(ensemble.OutputScale);
            var output = members.EvaluateMembers(scaled);
            var k = members.Members;
            var flat = output.Scores.reshape(k * rows, -1);
            var repeated = task == SupervisedTask.Regression
                ? target.unsqueeze(0).expand(k, rows, target.shape[1]).reshape(k * rows, -1)
                : target.unsqueeze(0).expand(k, rows).reshape(k * rows);
            var losses = SupervisedObjective.RowLosses(task, flat, repeated, training ? labelSmoothing : 0).view(k, rows);
            var memberIndex = HeldScalars.Arange(k, device: fold.device).unsqueeze(1);
            var mask = (training ? fold.unsqueeze(0).ne(memberIndex) : fold.unsqueeze(0).eq(memberIndex)).to(losses.dtype);
            if (!training && selectOnError && task != SupervisedTask.Regression)
                losses = Errors(task, flat, repeated).view(k, rows).Add(losses.Mul(TieBreakWeight));
            var loss = training
                ? losses.mul(mask).sum([1]).div(mask.sum([1]).ClampMin(1)).sum()
                : losses.mul(mask).sum().Div(rows);
            if (training && output.Penalty is { } penalty)
                loss = loss.Add(penalty);
            if (output.Solve is { } solve)
            {
                metrics.Add("forward iterations", solve.Forward.Iterations);
                metrics.Add("forward residual", solve.Forward.RelativeResidual);
            }
            pending = training ? output.Solve : null;
            return loss;
        };
    }

    /// <summary>
    /// Every validated row's scores under the member that held it out, in the ensemble's output units, with its target:
    /// (scores [rows, outputs], targets) over batches [features, target, fold] of a validation source.
    /// </summary>
    public static (Tensor Scores, Tensor Targets) OutOfFoldScores(SupervisedEnsemble ensemble, IBatchSource validation, int batchSize = Trainer.ValidationBatchRows)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        ArgumentNullException.ThrowIfNull(validation);
        ensemble.eval();
        using var _ = no_grad();
        var scores = new List<Tensor>();
        var targets = new List<Tensor>();
        foreach (var batch in validation.Batches(batchSize, shuffle: false, 0))
        {
            using var scope = NewDisposeScope();
            var memberScores = ensemble.Members.EvaluateMembers(ensemble.Scaling.call(batch[0])).Scores;
            var rows = HeldScalars.Arange(batch[0].shape[0], device: memberScores.device);
            var own = memberScores.permute(1, 0, 2).index([rows, batch[2]]);
            scores.Add(own.mul(ensemble.OutputScale).Add(ensemble.OutputShift).cpu().DetachFromDisposeScope());
            targets.Add(batch[1].cpu().DetachFromDisposeScope());
        }
        return scores.Count == 0
            ? throw new ArgumentException("The validation source produced no rows.", nameof(validation))
            : (cat(scores, 0), cat(targets, 0));
    }

    /// <summary>1 where the scores [rows, outputs] misclassify the row, else 0.</summary>
    private static Tensor Errors(SupervisedTask task, Tensor scores, Tensor target) => task == SupervisedTask.MulticlassClassification
        ? scores.argmax(1).ne(target).to(scores.dtype)
        : scores.squeeze(1).Gt(0).ne(target.Gt(0.5)).to(scores.dtype);
}
