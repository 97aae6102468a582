using System.Globalization;
using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Supervised;

/// <summary>Linear models x ↦ W x + b, one per member, and the penalty λ chosen for them.</summary>
/// <param name="Penalty">λ of the L2 penalty (λ/2)‖W‖² on the mean loss.</param>
/// <param name="Weights">Per member, W [outputs, features] (float64).</param>
/// <param name="Biases">Per member, b [outputs] (float64).</param>
/// <param name="HeldOutLoss">Mean loss of each validated row under the member that did not train on it.</param>
public sealed record LinearModels(double Penalty, IReadOnlyList<Tensor> Weights, IReadOnlyList<Tensor> Biases, double HeldOutLoss);

/// <summary>
/// Fits L2-regularised linear models to convergence — logistic losses by L-BFGS, squared error in closed form — with the
/// penalty chosen by cross-fitting: for each λ of <see cref="Grid"/>, member k is fitted on the rows outside fold k and
/// scored on fold k, and the λ with the lowest held-out loss over all folds wins.
/// </summary>
/// <remarks>
/// Rows carry a fold number: rows of fold k &lt; members are held out from member k and validate it; rows of a fold ≥
/// members train every member and validate none (a single member with a validation share uses folds 0 and 1). Losses
/// are means over rows: cross-entropy (multiclass), binary cross-entropy on 0/1 targets, squared error (regression,
/// whose targets should be standardised so that λ means the same on every data set).
/// </remarks>
public static class LinearModelFit
{
    /// <summary>The penalties tried, 1e-5 to 10 in steps of √10, from the largest down (each fit starts from the previous one).</summary>
    public static IReadOnlyList<double> Grid { get; } = [.. Enumerable.Range(0, 13).Select(i => Math.Pow(10, 1 - i / 2.0))];

    /// <summary>
    /// Fits the members for every λ of <see cref="Grid"/> (or only <paramref name="penalty"/>) and returns those of the λ
    /// with the lowest held-out loss. The path stops early once the held-out loss has risen for two penalties in a row.
    /// </summary>
    /// <param name="task">The loss.</param>
    /// <param name="features">[rows, d], float64.</param>
    /// <param name="target">Class indices (int64, multiclass), 0/1 (binary) or values [rows, outputs] or [rows] (regression).</param>
    /// <param name="folds">[rows] int64 fold numbers.</param>
    /// <param name="members">Number of members (validated folds).</param>
    /// <param name="outputs">Classes (multiclass), 1 (binary), or values per row (regression).</param>
    /// <param name="penalty">A fixed λ, or null to choose it.</param>
    public static LinearModels Fit(SupervisedTask task, Tensor features, Tensor target, Tensor folds, int members, int outputs, double? penalty = null)
        => Fit(task, features, target, folds, members, outputs, penalty, PathValues);

    /// <summary>
    /// Rows × features beyond which a logistic model's penalty path runs on a seeded subsample of each member's training
    /// rows (of this many values): a path of 13 penalties to convergence on 48 000 images of 784 pixels took 13 minutes.
    /// The chosen λ is then rescaled by subsample rows ÷ rows (the penalty is on the mean loss, so λ · rows is the prior's
    /// strength) and each member solved once on all its rows, from the subsample's solution.
    /// </summary>
    internal const long PathValues = 4_000_000;

    internal static LinearModels Fit(SupervisedTask task, Tensor features, Tensor target, Tensor folds, int members, int outputs, double? penalty, long pathValues)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(folds);
        if (members < 1) throw new ArgumentOutOfRangeException(nameof(members), members, "Must be at least 1.");
        if (outputs < 1) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "Must be at least 1.");
        if (penalty is { } fixedPenalty && !(fixedPenalty >= 0 && double.IsFinite(fixedPenalty)))
            throw new ArgumentOutOfRangeException(nameof(penalty), fixedPenalty, "Must be finite and non-negative.");
        if (features.dim() != 2 || folds.shape[0] != features.shape[0] || target.shape[0] != features.shape[0])
            throw new ArgumentException($"Expected features [rows, d] with one target and one fold per row; got features [{string.Join(", ", features.shape)}], target [{string.Join(", ", target.shape)}], folds [{string.Join(", ", folds.shape)}].");

        using var scope = NewDisposeScope();
        var x = features.to(ScalarType.Float64);
        var y = task == SupervisedTask.MulticlassClassification ? target.to(ScalarType.Int64) : target.to(ScalarType.Float64).view(target.shape[0], -1);
        var parts = Enumerable.Range(0, members).Select(k =>
        {
            var heldOut = folds.Eq(k);
            var train = heldOut.logical_not().nonzero().squeeze(1);
            var test = heldOut.nonzero().squeeze(1);
            if (train.shape[0] == 0)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Member {k} has no rows to train on: every row is in its fold."), nameof(folds));
            return (Train: new Part(x.index_select(0, train), y.index_select(0, train)), Test: new Part(x.index_select(0, test), y.index_select(0, test)));
        }).ToArray();
        var validated = parts.Sum(p => p.Test.Rows);

        IReadOnlyList<double> grid = penalty is { } single ? [single] : Grid;
        var width = x.shape[1] + 1;
        var pathRows = Math.Max(1, pathValues / width);
        var subsampled = penalty is null && task != SupervisedTask.Regression && parts.Any(p => p.Train.Rows > pathRows);
        var pathParts = subsampled ? [.. parts.Select(p => p with { Train = Subsample(p.Train, pathRows) })] : parts;
        var solvers = pathParts.Select(p => task == SupervisedTask.Regression ? (ISolver)new Ridge(p.Train) : new Logistic(task, p.Train, outputs)).ToArray();
        (double Penalty, double Loss, Tensor[] Weights, Tensor[] Biases)? best = null;
        var rising = 0;
        var previous = double.PositiveInfinity;
        foreach (var lambda in grid)
        {
            double lossSum = 0;
            var weights = new Tensor[members];
            var biases = new Tensor[members];
            for (var k = 0; k < members; k++)
            {
                (weights[k], biases[k]) = solvers[k].Solve(lambda);
                if (parts[k].Test.Rows > 0)
                    lossSum += Loss(task, parts[k].Test.Features.mm(weights[k].t()).Add(biases[k]), parts[k].Test.Target).ReadDouble() * parts[k].Test.Rows;
            }
            var loss = validated > 0 ? lossSum / validated : 0;
            if (best is null || loss < best.Value.Loss)
                best = (lambda, loss, weights, biases);
            rising = loss > previous ? rising + 1 : 0;
            previous = loss;
            if (rising == 2)
                break;
        }
        var (chosen, heldOutLoss, w, b) = best!.Value;
        if (subsampled)
        {
            double lossSum = 0;
            for (var k = 0; k < members; k++)
            {
                var rescaled = chosen * pathParts[k].Train.Rows / parts[k].Train.Rows;
                (w[k], b[k]) = new Logistic(task, parts[k].Train, outputs, (w[k], b[k])).Solve(rescaled);
                if (parts[k].Test.Rows > 0)
                    lossSum += Loss(task, parts[k].Test.Features.mm(w[k].t()).Add(b[k]), parts[k].Test.Target).ReadDouble() * parts[k].Test.Rows;
            }
            heldOutLoss = validated > 0 ? lossSum / validated : 0;
            chosen *= (double)pathParts[0].Train.Rows / parts[0].Train.Rows;
        }
        return new LinearModels(chosen, [.. w.Select(t => t.DetachFromDisposeScope())], [.. b.Select(t => t.DetachFromDisposeScope())], heldOutLoss);
    }

    /// <summary>The mean loss of <paramref name="scores"/> [rows, outputs] (float64) for the task.</summary>
    private static Tensor Loss(SupervisedTask task, Tensor scores, Tensor target) => task switch
    {
        SupervisedTask.MulticlassClassification => nn.functional.cross_entropy(scores, target),
        SupervisedTask.BinaryClassification => nn.functional.binary_cross_entropy_with_logits(scores, target),
        _ => scores.sub(target).Square().sum(1).mean(),
    };

    private sealed record Part(Tensor Features, Tensor Target)
    {
        public long Rows => Features.shape[0];
    }

    // A seeded subsample of the rows (the same for every run on the same data).
    private static Part Subsample(Part part, long rows)
    {
        var chosen = randperm(part.Rows, generator: new Generator(17)).slice(0, 0, rows, 1);
        return new Part(part.Features.index_select(0, chosen), part.Target.index_select(0, chosen));
    }

    private interface ISolver
    {
        (Tensor Weight, Tensor Bias) Solve(double penalty);
    }

    /// <summary>Squared error: W = Yᶜᵀ Xᶜ (Xᶜᵀ Xᶜ + n λ I)⁻¹ on centred data, through one eigendecomposition for every λ.</summary>
    private sealed class Ridge : ISolver
    {
        private readonly Tensor xMean, yMean, eigenvalues, eigenvectors, projected;
        private readonly long rows;

        public Ridge(Part data)
        {
            rows = data.Rows;
            xMean = data.Features.mean([0]);
            yMean = data.Target.mean([0]);
            var xc = data.Features.sub(xMean);
            var (values, vectors) = linalg.eigh(xc.t().mm(xc).Div(rows));
            (eigenvalues, eigenvectors) = (values.ClampMin(0), vectors);
            projected = vectors.t().mm(xc.t().mm(data.Target.sub(yMean)).Div(rows));
        }

        public (Tensor Weight, Tensor Bias) Solve(double penalty)
        {
            var weight = eigenvectors.mm(projected.div(eigenvalues.Add(Math.Max(penalty, 1e-12)).unsqueeze(1))).t();
            return (weight, yMean.sub(weight.mv(xMean)));
        }
    }

    /// <summary>Multinomial or binary logistic regression by L-BFGS, warm-started from the previous penalty's solution.</summary>
    private sealed class Logistic(SupervisedTask task, Part data, int outputs, (Tensor Weight, Tensor Bias)? start = null) : ISolver
    {
        private readonly int width = (int)data.Features.shape[1];
        private readonly Tensor oneHot = task == SupervisedTask.MulticlassClassification
            ? nn.functional.one_hot(data.Target, outputs).to(ScalarType.Float64) : data.Target;
        private double[] parameters = start is { } s
            ? cat([s.Weight, s.Bias.unsqueeze(1)], 1).data<double>().ToArray()
            : new double[outputs * ((int)data.Features.shape[1] + 1)];

        public (Tensor Weight, Tensor Bias) Solve(double penalty)
        {
            parameters = Lbfgs.Minimize(theta => Evaluate(theta, penalty), parameters);
            var all = tensor(parameters, [outputs, width + 1], ScalarType.Float64);
            return (all[.., ..width].contiguous(), all[.., width].contiguous());
        }

        private (double Loss, double[] Gradient) Evaluate(double[] theta, double penalty)
        {
            using var scope = NewDisposeScope();
            var all = tensor(theta, [outputs, width + 1], ScalarType.Float64);
            var weight = all[.., ..width];
            var scores = data.Features.mm(weight.t()).Add(all[.., width]);
            Tensor loss, residual;
            if (task == SupervisedTask.MulticlassClassification)
            {
                var logNormaliser = scores.logsumexp(1, keepdim: true);
                loss = logNormaliser.squeeze(1).sub(scores.mul(oneHot).sum(1)).mean();
                residual = scores.sub(logNormaliser).exp().sub(oneHot);
            }
            else
            {
                loss = HeldScalars.Softplus(scores).sub(scores.mul(oneHot)).mean();
                residual = scores.sigmoid().sub(oneHot);
            }
            residual = residual.Div(data.Rows);
            var gradient = cat([residual.t().mm(data.Features).Add(weight.Mul(penalty)), residual.sum(dim: 0).unsqueeze(1)], 1);
            return (loss.ReadDouble() + 0.5 * penalty * weight.Square().sum().ReadDouble(), gradient.data<double>().ToArray());
        }
    }
}
