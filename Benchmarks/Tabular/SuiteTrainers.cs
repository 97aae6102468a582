using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Benchmarks.Tabular;

/// <summary>
/// A fit: trains on the given rows of a data set and returns a predictor of the held-out rows — one number per row: the
/// class's index in <see cref="SuiteDataSet.Classes"/>, 1/0 for the positive class, the predicted target, or the anomaly
/// score.
/// </summary>
public delegate Func<int[], double[]> SuiteFit(SuiteDataSet data, int[] train, int seed);

/// <summary>A trainer of the suite; several variants (RandomizedPca's ranks) are all run and the best mean is reported.</summary>
public sealed record SuiteTrainer(string Name, SuiteGroup Group, bool Ours, IReadOnlyList<(string Variant, SuiteFit Fit)> Variants);

/// <summary>The trainers of the suite: ours at their default options beside the ML.NET peers of shared/docs/BENCHMARKS.md.</summary>
public static class SuiteTrainers
{
    private const string Features = "Features", Label = "Label";

    /// <summary>Every trainer of the suite, ours first in each group.</summary>
    public static IReadOnlyList<SuiteTrainer> All { get; } =
    [
        MlNet("DeepEquilibrium", SuiteGroup.Multiclass, true, c => c.MulticlassClassification.Trainers.DeepEquilibrium()),
        MlNet("InvertibleResNet", SuiteGroup.Multiclass, true, c => c.MulticlassClassification.Trainers.InvertibleResNet()),
        MlNet("LightGbm", SuiteGroup.Multiclass, false, c => c.MulticlassClassification.Trainers.LightGbm()),
        MlNet("FastForest", SuiteGroup.Multiclass, false, c => c.MulticlassClassification.Trainers.OneVersusAll(c.BinaryClassification.Trainers.FastForest())),
        MlNet("FastTree", SuiteGroup.Multiclass, false, c => c.MulticlassClassification.Trainers.OneVersusAll(c.BinaryClassification.Trainers.FastTree())),
        MlNet("SdcaMaximumEntropy", SuiteGroup.Multiclass, false, c => c.MulticlassClassification.Trainers.SdcaMaximumEntropy()),
        MlNet("LbfgsMaximumEntropy", SuiteGroup.Multiclass, false, c => c.MulticlassClassification.Trainers.LbfgsMaximumEntropy()),

        MlNet("DeepEquilibrium", SuiteGroup.Binary, true, c => c.BinaryClassification.Trainers.DeepEquilibrium()),
        MlNet("SdcaLogisticRegression", SuiteGroup.Binary, false, c => c.BinaryClassification.Trainers.SdcaLogisticRegression()),
        MlNet("LbfgsLogisticRegression", SuiteGroup.Binary, false, c => c.BinaryClassification.Trainers.LbfgsLogisticRegression()),
        MlNet("LightGbm", SuiteGroup.Binary, false, c => c.BinaryClassification.Trainers.LightGbm()),
        MlNet("FastForest", SuiteGroup.Binary, false, c => c.BinaryClassification.Trainers.FastForest()),
        MlNet("FastTree", SuiteGroup.Binary, false, c => c.BinaryClassification.Trainers.FastTree()),

        MlNet("DeepEquilibrium", SuiteGroup.Regression, true, c => c.Regression.Trainers.DeepEquilibrium()),
        MlNet("LightGbm", SuiteGroup.Regression, false, c => c.Regression.Trainers.LightGbm()),
        MlNet("FastForest", SuiteGroup.Regression, false, c => c.Regression.Trainers.FastForest()),
        MlNet("FastTree", SuiteGroup.Regression, false, c => c.Regression.Trainers.FastTree()),
        MlNet("Sdca", SuiteGroup.Regression, false, c => c.Regression.Trainers.Sdca()),
        MlNet("LbfgsPoissonRegression", SuiteGroup.Regression, false, c => c.Regression.Trainers.LbfgsPoissonRegression()),

        MlNet("InvertibleResNet", SuiteGroup.Anomaly, true, c => c.AnomalyDetection.Trainers.InvertibleResNet()),
        new("RandomizedPca", SuiteGroup.Anomaly, false, [.. new[] { 5, 10, 20 }.Select(rank => ($"rank {rank}", RandomizedPca(rank)))]),
        new("Gaussian", SuiteGroup.Anomaly, false, [("full covariance", Gaussian)]),
    ];

    /// <summary>The groups a data set is run with.</summary>
    public static IEnumerable<SuiteGroup> GroupsOf(SuiteDataSet data) => data.Task switch
    {
        SuiteTask.Classification => data.Classes.Count == 2 ? [SuiteGroup.Multiclass, SuiteGroup.Binary] : [SuiteGroup.Multiclass],
        SuiteTask.Regression => [SuiteGroup.Regression],
        _ => [SuiteGroup.Anomaly],
    };

    private static SuiteTrainer MlNet(string name, SuiteGroup group, bool ours, Func<MLContext, IEstimator<ITransformer>> trainer)
        => new(name, group, ours, [("default options", (data, train, seed) => FitPipeline(data, train, seed, group, trainer))]);

    /// <summary>RandomizedPca at <paramref name="rank"/>, capped at d − 1 (the variants of a narrow set may coincide).</summary>
    private static SuiteFit RandomizedPca(int rank) => (data, train, seed) =>
        FitPipeline(data, train, seed, SuiteGroup.Anomaly, c => c.AnomalyDetection.Trainers.RandomizedPca(rank: Math.Min(rank, data.Width - 1)));

    /// <summary>
    /// The standard pipeline: features standardised on the training rows, the label prepared for the group, the trainer;
    /// the predictor reads the predicted label, the score or the anomaly score of the held-out rows.
    /// </summary>
    private static Func<int[], double[]> FitPipeline(SuiteDataSet data, int[] train, int seed, SuiteGroup group, Func<MLContext, IEstimator<ITransformer>> trainer)
    {
        var context = new MLContext(seed);
        IEstimator<ITransformer> pipeline = context.Transforms.NormalizeMeanVariance(Features);
        pipeline = group switch
        {
            SuiteGroup.Multiclass => pipeline.Append(context.Transforms.Conversion.MapValueToKey(Label, nameof(Row.Class))),
            SuiteGroup.Binary => pipeline.Append(context.Transforms.CopyColumns(Label, nameof(Row.Positive))),
            SuiteGroup.Regression => pipeline.Append(context.Transforms.CopyColumns(Label, nameof(Row.Target))),
            _ => pipeline,
        };
        pipeline = pipeline.Append(trainer(context));
        if (group == SuiteGroup.Multiclass)
            pipeline = pipeline.Append(context.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
        var model = pipeline.Fit(View(context, data, train));
        return test =>
        {
            var scored = model.Transform(View(context, data, test));
            return group switch
            {
                SuiteGroup.Multiclass => scored.GetColumn<ReadOnlyMemory<char>>("PredictedClass")
                    .Select(c => (double)IndexOf(data.Classes, c.ToString())).ToArray(),
                SuiteGroup.Binary => scored.GetColumn<bool>("PredictedLabel").Select(p => p ? 1.0 : 0.0).ToArray(),
                _ => scored.GetColumn<float>("Score").Select(s => (double)s).ToArray(),
            };
        };
    }

    private static int IndexOf(IReadOnlyList<string> classes, string name)
    {
        for (var i = 0; i < classes.Count; i++)
            if (classes[i] == name)
                return i;
        return -1;
    }

    /// <summary>
    /// The full-covariance Gaussian of the training rows: score = Mahalanobis distance² under the pseudo-inverse of the
    /// maximum-likelihood covariance (scikit-learn's <c>EmpiricalCovariance</c>); standardising first changes nothing.
    /// </summary>
    private static Func<int[], double[]> Gaussian(SuiteDataSet data, int[] train, int seed)
    {
        using var scope = NewDisposeScope();
        var x = Matrix(data, train);
        var mean = x.mean([0]).DetachFromDisposeScope();
        var centred = x.sub(mean);
        var precision = linalg.pinv(centred.t().mm(centred).div(train.Length), hermitian: true).DetachFromDisposeScope();
        return test =>
        {
            using var inner = NewDisposeScope();
            var d = Matrix(data, test).sub(mean);
            return d.mm(precision).mul(d).sum(1).data<double>().ToArray();
        };
    }

    private static Tensor Matrix(SuiteDataSet data, int[] rows)
        => tensor(rows.SelectMany(r => data.Features[r].Select(v => (double)v)).ToArray(), [rows.Length, data.Width], ScalarType.Float64);

    /// <summary>The rows as an <see cref="IDataView"/>: a known-size "Features" vector, and the label in three forms.</summary>
    private static IDataView View(MLContext context, SuiteDataSet data, int[] rows)
    {
        var definition = SchemaDefinition.Create(typeof(Row));
        definition[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, data.Width);
        var positive = data.Classes.Count == 2 ? data.Classes[1] : null;
        return context.Data.LoadFromEnumerable(rows.Select(r => new Row
        {
            Features = data.Features[r],
            Class = data.Labels[r],
            Positive = data.Labels[r] == positive,
            Target = data.Task == SuiteTask.Regression ? data.Target(r) : 0,
        }).ToList(), definition);
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public string Class { get; set; } = "";
        public bool Positive { get; set; }
        public float Target { get; set; }
    }
}
