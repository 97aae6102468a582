using System.Globalization;
using Invertible.ML.Data;
using Invertible.ML.Hosting;
using Invertible.ML.Mapping;
using Invertible.Torch.Core;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Invertible.Torch;
using Microsoft.ML.Runtime;
using Microsoft.ML;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.ML.Trainers;

/// <summary>
/// What the supervised trainers share: schema checks, then cross-fitting. The rows are dealt to K folds (stratified by
/// class); the input scaling is fitted on every row; K linear models — member k fitted on the rows outside fold k, the
/// L2 penalty chosen on the held-out folds — start K members of the model, which then train together on minibatches
/// (each on the rows outside its fold) with early stopping on the out-of-fold loss. Epoch 0 of that early stopping is
/// the linear start itself, so the result is never worse out of fold than the linear models.
/// </summary>
internal static class SupervisedFit
{
    /// <summary>Builds the untrained members for (members, input features, outputs, training rows, generator).</summary>
    public delegate IMemberModel MemberFactory(int members, int inputs, int outputs, long rows, Generator generator);

    /// <summary>Members by default below <see cref="LargeRows"/> rows.</summary>
    public const int DefaultMembers = 5;

    /// <summary>
    /// From this many rows on, the default is one model validated on a <see cref="TrainingOptions.ValidationFraction"/>
    /// slice: the slice then holds 2 000 rows or more, so its choice of epoch is not noise, and one model costs a
    /// fifth of five (letter, 16 000 rows, one split, 2 cores, 2026-12-05: 0.951 accuracy in 39 s as one model of state
    /// 128, 0.931 in 52 s as five members of state 64).
    /// </summary>
    public const long LargeRows = 10_000;

    /// <summary>The members for <paramref name="rows"/> rows when <see cref="SupervisedTrainingOptions.Members"/> is not set.</summary>
    public static int MembersFor(long rows) => rows < LargeRows ? DefaultMembers : 1;

    public static SchemaShape OutputSchema(SchemaShape input, SupervisedTask task, string featureColumn, string labelColumn)
    {
        FeatureColumn.Check(input, featureColumn);
        if (!input.Any(c => c.Name == labelColumn))
            throw new ArgumentException($"The label column '{labelColumn}' was not found in the input.", nameof(input));
        return InvertiblePredictionTransformer.OutputSchema(task, input, labelColumn);
    }

    public static InvertiblePredictionTransformer Fit(IHostEnvironment environment, string name, IDataView input, SupervisedTask task,
        SupervisedTrainingOptions options, MemberFactory create, double? learningRate = null, RandomShift? shift = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (featureColumn, labelColumn) = (options.FeatureColumnName, options.LabelColumnName);
        var width = FeatureColumn.Width(input.Schema, featureColumn);
        var label = LabelColumn.For(input.Schema, labelColumn, task);
        var keys = task == SupervisedTask.MulticlassClassification ? LabelKeys.Of(input.Schema[labelColumn]) : null;
        var outputs = task == SupervisedTask.MulticlassClassification ? label.Classes : 1;
        var host = new TrainingHost(environment, name);
        var seed = host.Seed(options.Seed);
        var device = Devices.Resolve(options.Device);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var rows = LabeledRows.Read(input, featureColumn, width, label);
        if (rows.Rows == 0)
            throw new ArgumentException($"The input has no rows to train on (column '{featureColumn}').", nameof(input));
        var members = options.Members ?? MembersFor(rows.Rows);
        var folds = CrossFitFolds.Deal(task == SupervisedTask.Regression ? null : [.. rows.Labels.Select(l => (int)l)], rows.Rows, members,
            options.ValidationFraction, seed);
        var statistics = DataStatistics.Compute(input, featureColumn, width, new RowSplit(0, seed));
        var generator = new Generator((ulong)seed);

        var scaling = new InputScaling(width);
        scaling.Fit(statistics.Training.Mean.to(ScalarType.Float32), statistics.Training.Covariance.diagonal().to(ScalarType.Float32));
        LinearModels linear;
        double targetMean = 0, targetScale = 1;
        using (var scope = NewDisposeScope())
        {
            var (x, y) = rows.SampleTensors();
            using (no_grad())
                x = scaling.call(x.to(ScalarType.Float32)).to(ScalarType.Float64);
            if (task == SupervisedTask.Regression)
            {
                var values = y.to(ScalarType.Float64);
                (targetMean, targetScale) = (values.mean().ReadDouble(), Math.Max(values.std(unbiased: false).ReadDouble(), 1e-12));
                y = values.Sub(targetMean).Div(targetScale);
            }
            var sampleFolds = tensor(rows.Sampled.Select(r => (long)folds.Of(r)).ToArray());
            linear = LinearModelFit.Fit(task, x, y, sampleFolds, members, outputs);
        }
        host.Info(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {rows.Rows} rows, {width} features, {members} cross-fitted member{(members == 1 ? "" : "s")}; linear start: L2 penalty {linear.Penalty:G2}, out-of-fold loss {linear.HeldOutLoss:F4} ({watch.Elapsed.TotalSeconds:F1} s)."));

        var memberModel = create(members, width, outputs, rows.Rows, generator);
        for (var k = 0; k < members; k++)
            memberModel.InitializeLinear(k, linear.Weights[k].to(ScalarType.Float32), linear.Biases[k].to(ScalarType.Float32));
        var ensemble = new SupervisedEnsemble(scaling, memberModel);
        if (task == SupervisedTask.Regression)
            ensemble.SetOutputTransform(tensor(new[] { (float)targetScale }), tensor(new[] { (float)targetMean }));
        ensemble.to(device);

        var training = new DataViewBatchSource(input, featureColumn, width, label, _ => true, device, folds.Of);
        var validation = new DataViewBatchSource(input, featureColumn, width, label, folds.IsValidated, device, folds.Of);
        var smoothing = task == SupervisedTask.Regression ? 0 : options.LabelSmoothing;
        var loss = CrossFitting.Loss(ensemble, smoothing, options.TrainingNoise ?? 0, selectOnError: task != SupervisedTask.Regression, generator);
        if (shift is not null)
        {
            var unshifted = loss;
            loss = (batch, metrics) => unshifted(ensemble.training ? [shift.Apply(batch[0], generator), .. batch.Skip(1)] : batch, metrics);
        }
        var report = Trainer.Fit(ensemble, training, validation, loss, options.ToTrainerOptions(seed, learningRate, spent: watch.Elapsed),
            host.Progress(name, options.ProgressCallback), options.CancellationToken);
        var (scores, targets) = CrossFitting.OutOfFoldScores(ensemble, validation);
        var outOfFold = OutOfFoldMetrics.Of(task, scores, targets);
        host.Info(string.Create(CultureInfo.InvariantCulture,
            $"{name}: best epoch {report.BestEpoch} of {report.History.Count} (0 = the linear start{(report.StoppedByTimeBudget ? "; the time budget ended the fit" : "")}); {outOfFold}; {watch.Elapsed.TotalSeconds:F1} s."));
        return InvertiblePredictionTransformer.Create(environment, ensemble, featureColumn, labelColumn, keys, report, outOfFold);
    }
}
