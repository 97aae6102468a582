using System.Diagnostics;
using System.Globalization;
using Invertible.Torch.Implicit;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Training;

/// <summary>A loss on one minibatch (the rows of each data tensor at the same indices); returns a scalar mean loss.</summary>
public delegate Tensor MinibatchLoss(IReadOnlyList<Tensor> batch, TrainingMetrics metrics);

/// <summary>
/// The one training loop of the product: Adam on minibatches, seeded split and shuffling, gradient clipping, a
/// learning-rate schedule, early stopping on a validation split (restoring the best weights), per-epoch progress and
/// cancellation.
/// </summary>
public static class Trainer
{
    /// <summary>Trains <paramref name="model"/> on rows of <paramref name="data"/> (all tensors share dimension 0).</summary>
    /// <exception cref="OperationCanceledException">Cancelled; the model then holds the best weights seen so far.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite.</exception>
    public static TrainingReport Fit(nn.Module model, IReadOnlyList<Tensor> data, MinibatchLoss loss, TrainerOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(loss);
        options ??= new TrainerOptions();
        options.Validate();
        if (data.Count == 0) throw new ArgumentException("No data tensors.", nameof(data));
        var rows = data[0].shape[0];
        if (data.Any(t => t.shape[0] != rows))
            throw new ArgumentException($"All data tensors need the same number of rows; got {string.Join(", ", data.Select(t => t.shape[0]))}.", nameof(data));
        var validationRows = (long)Math.Ceiling(options.ValidationFraction * rows);
        if (rows - validationRows < 1)
            throw new ArgumentException($"{rows} rows leave none for training after the validation split of {options.ValidationFraction}.", nameof(data));

        var generator = new Generator(options.Seed);
        var order = randperm(rows, generator: generator);
        var validation = validationRows > 0 ? data.Select(t => t.index_select(0, order[..(int)validationRows])).ToArray() : null;
        var training = data.Select(t => t.index_select(0, order[(int)validationRows..])).ToArray();
        var trainingRows = training[0].shape[0];

        var parameters = model.parameters().Where(p => p.requires_grad).ToList();
        var optimizer = optim.Adam(parameters, options.LearningRate, weight_decay: options.WeightDecay);
        var metrics = new TrainingMetrics();
        var history = new List<TrainingProgress>();
        var best = (Epoch: 0, Loss: double.PositiveInfinity);
        Dictionary<string, Tensor>? bestState = null;
        var watch = Stopwatch.StartNew();
        var stoppedEarly = false;

        try
        {
            for (var epoch = 1; epoch <= options.Epochs; epoch++)
            {
                var learningRate = options.LearningRateAt(epoch - 1);
                foreach (var group in optimizer.ParamGroups)
                    group.LearningRate = learningRate;

                model.train();
                double lossSum = 0;
                var permutation = randperm(trainingRows, generator: generator);
                for (long start = 0; start < trainingRows; start += options.BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var indices = permutation[(int)start..(int)Math.Min(start + options.BatchSize, trainingRows)];
                    var batch = training.Select(t => t.index_select(0, indices)).ToArray();
                    optimizer.zero_grad();
                    var value = loss(batch, metrics);
                    var scalar = value.ToDouble();
                    if (!double.IsFinite(scalar))
                        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                            $"Training diverged in epoch {epoch}: the loss is {scalar}. Lower the learning rate or enable gradient clipping."));
                    value.backward();
                    BackwardFailures.ThrowIfAny();
                    if (options.GradientClipNorm is { } clip)
                        nn.utils.clip_grad_norm_(parameters, clip);
                    optimizer.step();
                    lossSum += scalar * indices.shape[0];
                }

                double? validationLoss = validation is null ? null : Evaluate(model, validation, loss, options.BatchSize);
                var isBest = validationLoss is { } v ? v < best.Loss : true;
                if (isBest)
                {
                    best = (epoch, validationLoss ?? double.NaN);
                    if (validation is not null && options.RestoreBestWeights)
                        bestState = Snapshot(model, bestState);
                }
                var report = new TrainingProgress(epoch, options.Epochs, lossSum / trainingRows, validationLoss, learningRate,
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
        return new TrainingReport(history, best.Epoch, validation is null ? null : best.Loss, stoppedEarly, watch.Elapsed);
    }

    /// <summary>Mean loss over rows in evaluation mode, without gradients.</summary>
    public static double Evaluate(nn.Module model, IReadOnlyList<Tensor> data, MinibatchLoss loss, int batchSize = TrainerOptions.Defaults.BatchSize)
    {
        model.eval();
        using var _ = no_grad();
        var rows = data[0].shape[0];
        var metrics = new TrainingMetrics();
        double sum = 0;
        for (long start = 0; start < rows; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var end = Math.Min(start + batchSize, rows);
            var batch = data.Select(t => t[(int)start..(int)end]).ToArray();
            sum += loss(batch, metrics).ToDouble() * (end - start);
        }
        return sum / rows;
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
