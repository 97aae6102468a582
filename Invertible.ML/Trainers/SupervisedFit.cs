using System.Globalization;
using Invertible.ML.Data;
using Invertible.ML.Hosting;
using Invertible.ML.Mapping;
using Invertible.Torch;
using Invertible.Torch.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.ML.Trainers;

/// <summary>
/// What the supervised trainers share: schema checks, a streaming pass over the rows, then two stages of training — the
/// linear model x ↦ W x + b first, then the full model initialised to it and validated before its first epoch, so it
/// never ends worse than the linear model on the held-out rows.
/// </summary>
internal static class SupervisedFit
{
    /// <summary>Builds an untrained model for (input features, outputs, training rows, generator).</summary>
    public delegate nn.Module ModelFactory(int inputs, int outputs, long rows, Generator generator);

    public static SchemaShape OutputSchema(SchemaShape input, SupervisedTask task, string featureColumn, string labelColumn)
    {
        FeatureColumn.Check(input, featureColumn);
        if (!input.Any(c => c.Name == labelColumn))
            throw new ArgumentException($"The label column '{labelColumn}' was not found in the input.", nameof(input));
        return task switch
        {
            SupervisedTask.MulticlassClassification => SchemaShapes.With(input, [
                SchemaShapes.Of(new(InvertiblePredictionTransformer.ScoreColumnName, OutputKind.FloatVector, 2)),
                SchemaShapes.CopyOf(input, labelColumn, InvertiblePredictionTransformer.PredictedLabelColumnName)]),
            SupervisedTask.BinaryClassification => SchemaShapes.With(input, [
                SchemaShapes.Of(new(InvertiblePredictionTransformer.ScoreColumnName, OutputKind.Float)),
                SchemaShapes.Of(new(InvertiblePredictionTransformer.ProbabilityColumnName, OutputKind.Float)),
                SchemaShapes.Of(new(InvertiblePredictionTransformer.PredictedLabelColumnName, OutputKind.Boolean))]),
            _ => SchemaShapes.With(input, [SchemaShapes.Of(new(InvertiblePredictionTransformer.ScoreColumnName, OutputKind.Float))]),
        };
    }

    public static InvertiblePredictionTransformer Fit(IHostEnvironment environment, string name, IDataView input, SupervisedTask task,
        string featureColumn, string labelColumn, TrainingOptions options, ModelFactory create)
    {
        ArgumentNullException.ThrowIfNull(input);
        var width = FeatureColumn.Width(input.Schema, featureColumn);
        var label = LabelColumn.For(input.Schema, labelColumn, task);
        var keys = task == SupervisedTask.MulticlassClassification ? LabelKeys.Of(input.Schema[labelColumn]) : null;
        var outputs = task == SupervisedTask.MulticlassClassification ? label.Classes : 1;
        var host = new TrainingHost(environment, name);
        var seed = host.Seed(options.Seed);
        var device = Devices.Resolve(options.Device);
        var split = new RowSplit(options.ValidationFraction, seed);
        var statistics = DataStatistics.Compute(input, featureColumn, width, split);
        if (statistics.TrainingRows == 0)
            throw new ArgumentException($"The input has no rows to train on (column '{featureColumn}'; {statistics.ValidationRows} held out for validation).", nameof(input));
        var training = new DataViewBatchSource(input, featureColumn, width, label, split.Training, device);
        var validation = statistics.ValidationRows > 0 ? new DataViewBatchSource(input, featureColumn, width, label, split.Validation, device) : null;
        var generator = new Generator((ulong)seed);

        var linear = nn.Linear(width, outputs);
        Initialization.Linear(linear, generator);
        linear.to(device);
        var linearReport = Trainer.Fit(linear, training, validation, (batch, _) => SupervisedObjective.Loss(task, linear.call(batch[0]), batch[1]),
            options.ToTrainerOptions(seed, learningRate: 1e-2, validateBeforeTraining: false), cancellationToken: options.CancellationToken);
        host.Info(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {statistics.TrainingRows} training rows, {statistics.ValidationRows} validation rows, {width} features; linear start: validation loss {linearReport.BestValidationLoss:F4} after {linearReport.History.Count} epochs."));

        var model = create(width, outputs, statistics.TrainingRows, generator);
        using (no_grad())
            ((ILinearStart)model).InitializeLinear(linear.weight!.detach().cpu(), linear.bias!.detach().cpu());
        model.to(device);
        var objective = SupervisedObjective.For((ISupervisedModel)model);
        var noise = (options.TrainingNoise ?? 0) * Math.Sqrt(statistics.Training.Covariance.diagonal().mean().ToDouble());
        Tensor Loss(IReadOnlyList<Tensor> batch, TrainingMetrics metrics)
            => objective(model.training && noise > 0 ? [batch[0].add(randn(batch[0].shape, generator: generator, device: batch[0].device).mul(noise)), batch[1]] : batch, metrics);
        var report = Trainer.Fit(model, training, validation, Loss, options.ToTrainerOptions(seed),
            host.Progress(name, options.ProgressCallback), options.CancellationToken);
        host.Info(string.Create(CultureInfo.InvariantCulture,
            $"{name}: best epoch {report.BestEpoch} of {report.History.Count} (0 = the linear start), validation loss {report.BestValidationLoss:F4}, {report.Elapsed.TotalSeconds:F1} s."));
        return new InvertiblePredictionTransformer(environment, model, featureColumn, labelColumn, keys, report);
    }
}
