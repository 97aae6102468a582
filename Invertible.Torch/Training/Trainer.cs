using System.Diagnostics;
using System.Globalization;
using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Training;

/// <summary>A loss on one minibatch (the rows of each data tensor at the same indices); returns a scalar mean loss.</summary>
public delegate Tensor MinibatchLoss(IReadOnlyList<Tensor> batch, TrainingMetrics metrics);

/// <summary>
/// The one training loop of the product: Adam on minibatches from an <see cref="IBatchSource"/>, seeded shuffling,
/// gradient clipping, a learning-rate schedule, early stopping on a validation source (restoring the best weights),
/// per-epoch progress and cancellation.
/// </summary>
public static class Trainer
{
    /// <summary>Validation runs in batches of at least this many rows: without gradients they are cheap to hold, and a
    /// model whose forward solves a fixed point pays its per-call cost once per batch.</summary>
    public const int ValidationBatchRows = 1024;

    /// <summary>
    /// Trains <paramref name="model"/> on rows of <paramref name="data"/> (all tensors share dimension 0), holding out
    /// <see cref="TrainerOptions.ValidationFraction"/> of them (seeded) for validation.
    /// </summary>
    /// <exception cref="ArgumentException">The data holds NaN or ±∞ (the message names the tensor, row and column).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the model then holds the best weights seen so far.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite.</exception>
    public static TrainingReport Fit(nn.Module model, IReadOnlyList<Tensor> data, MinibatchLoss loss, TrainerOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new TrainerOptions();
        options.Validate();
        var source = new TensorBatchSource(data);
        for (var i = 0; i < data.Count; i++)
            if (data[i].is_floating_point())
                RowInput.CheckFinite(data[i], $"data[{i}]");
        var (training, validation) = source.Split(options.ValidationFraction, options.Seed);
        return Fit(model, training, validation, loss, options, progress, cancellationToken);
    }

    /// <summary>Trains <paramref name="model"/> on batches of <paramref name="training"/>, validating on <paramref name="validation"/> (if any) after every epoch.</summary>
    /// <exception cref="OperationCanceledException">Cancelled; the model then holds the best weights seen so far.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite (the message says whether the batch held non-finite values).</exception>
    public static TrainingReport Fit(nn.Module model, IBatchSource training, IBatchSource? validation, MinibatchLoss loss, TrainerOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(loss);
        options ??= new TrainerOptions();
        options.Validate();

        using var optimizer = new FlatAdam(model.parameters().Where(p => p.requires_grad), options.LearningRate, options.WeightDecay);
        var metrics = new TrainingMetrics();
        var history = new List<TrainingProgress>();
        var best = (Epoch: 0, Loss: double.PositiveInfinity);
        Dictionary<string, Tensor>? bestState = null;
        var watch = Stopwatch.StartNew();
        var stoppedEarly = false;
        var stoppedByBudget = false;
        var heap = double.IsPositiveInfinity(options.NativeHeapGrowthLimit) ? null : new NativeHeapTrimmer(options.NativeHeapGrowthLimit);

        try
        {
            if (validation is not null && options.ValidateBeforeTraining)
            {
                best = (0, Evaluate(model, validation, loss, Math.Max(options.BatchSize, ValidationBatchRows)));
                if (options.RestoreBestWeights)
                    bestState = Snapshot(model, bestState);
            }
            var epochs = options.Epochs;
            var slowest = TimeSpan.Zero;
            for (var epoch = 1; epoch <= epochs; epoch++)
            {
                var started = watch.Elapsed;
                var learningRate = options.LearningRateAt(epoch - 1, epochs);
                optimizer.LearningRate = learningRate;

                model.train();
                double lossSum = 0;
                long rows = 0;
                foreach (var batch in training.Batches(options.BatchSize, shuffle: true, EpochSeed(options.Seed, epoch)))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    heap?.Check();
                    using var scope = NewDisposeScope();
                    optimizer.ZeroGrad();
                    var value = loss(batch, metrics);
                    var scalar = value.ReadDouble();
                    if (!double.IsFinite(scalar))
                        throw Diverged(epoch, scalar, batch);
                    value.backward();
                    BackwardFailures.ThrowIfAny();
                    if (options.GradientClipNorm is { } clip)
                        optimizer.ClipGradNorm(clip);
                    optimizer.Step();
                    var count = batch[0].shape[0];
                    lossSum += scalar * count;
                    rows += count;
                }
                if (rows == 0)
                    throw new ArgumentException("The training source produced no rows.", nameof(training));

                double? validationLoss = validation is null ? null : Evaluate(model, validation, loss, Math.Max(options.BatchSize, ValidationBatchRows));
                var isBest = validationLoss is not { } v || v < best.Loss;
                if (isBest)
                {
                    best = (epoch, validationLoss ?? double.NaN);
                    if (validation is not null && options.RestoreBestWeights)
                        bestState = Snapshot(model, bestState);
                }
                if (options.TimeBudget is { } budget)
                {
                    slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, (watch.Elapsed - started).Ticks));
                    var fit = epoch + (int)Math.Max(0, Math.Floor((budget - watch.Elapsed) / slowest));
                    if (fit < epochs)
                        (epochs, stoppedByBudget) = (fit, true);
                }
                var report = new TrainingProgress(epoch, epochs, lossSum / rows, validationLoss, learningRate,
                    metrics.AveragesAndReset(), watch.Elapsed, isBest);
                history.Add(report);
                progress?.Report(report);

                if (validation is not null && options.EarlyStoppingPatience > 0 && epoch - best.Epoch >= options.EarlyStoppingPatience)
                {
                    stoppedEarly = true;
                    break;
                }
            }
        }
        finally
        {
            if (bestState is not null)
                model.load_state_dict(bestState);
            model.eval();
        }
        return new TrainingReport(history, best.Epoch, validation is null ? null : best.Loss, stoppedEarly, watch.Elapsed) { StoppedByTimeBudget = stoppedByBudget };
    }

    /// <summary>Mean loss over the rows of <paramref name="data"/> in evaluation mode, without gradients.</summary>
    public static double Evaluate(nn.Module model, IReadOnlyList<Tensor> data, MinibatchLoss loss, int batchSize = TrainerOptions.Defaults.BatchSize)
        => Evaluate(model, new TensorBatchSource(data), loss, batchSize);

    /// <summary>Mean loss over the rows of <paramref name="data"/> in evaluation mode, without gradients.</summary>
    public static double Evaluate(nn.Module model, IBatchSource data, MinibatchLoss loss, int batchSize = TrainerOptions.Defaults.BatchSize)
    {
        model.eval();
        using var _ = no_grad();
        var metrics = new TrainingMetrics();
        double sum = 0;
        long rows = 0;
        foreach (var batch in data.Batches(batchSize, shuffle: false, 0))
        {
            using var scope = NewDisposeScope();
            var count = batch[0].shape[0];
            sum += loss(batch, metrics).ReadDouble() * count;
            rows += count;
        }
        return rows == 0 ? throw new ArgumentException("The evaluation source produced no rows.", nameof(data)) : sum / rows;
    }

    private static ulong EpochSeed(ulong seed, int epoch) => unchecked(seed * 0x9E3779B97F4A7C15UL + (ulong)epoch);

    /// <summary>A non-finite loss: blame the data when the batch holds non-finite values, the optimisation otherwise.</summary>
    private static Exception Diverged(int epoch, double loss, IReadOnlyList<Tensor> batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch[i].is_floating_point())
                continue;
            try
            {
                RowInput.CheckFinite(batch[i], $"batch tensor {i}");
            }
            catch (ArgumentException bad)
            {
                return new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"The loss is {loss} in epoch {epoch} because the data holds non-finite values: {bad.Message} Remove or impute them."), bad);
            }
        }
        return new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged in epoch {epoch}: the loss is {loss}. Lower the learning rate or enable gradient clipping."));
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module model, Dictionary<string, Tensor>? previous)
    {
        if (previous is not null)
            foreach (var tensor in previous.Values)
                tensor.Dispose();
        using var _ = no_grad();
        return model.state_dict().ToDictionary(pair => pair.Key, pair => pair.Value.detach().clone().DetachFromDisposeScope());
    }
}
