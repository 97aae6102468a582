using System.Text.Json;
using System.Text.Json.Nodes;
using Invertible.ML.Data;
using Invertible.ML.Mapping;
using Invertible.ML.Persistence;
using Invertible.Torch.Onnx;
using Invertible.Torch.Persistence;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.ML.Trainers;

/// <summary>
/// A trained supervised model (deep-equilibrium network, or i-ResNet features + linear head) as an ML.NET prediction
/// transformer. One sealed class per task owns its output columns, their computation from the model's scores and its
/// persisted form: <see cref="InvertibleMulticlassTransformer"/>, <see cref="InvertibleBinaryTransformer"/>,
/// <see cref="InvertibleRegressionTransformer"/>.
/// </summary>
public abstract class InvertiblePredictionTransformer : BatchedTransformer
{
    /// <summary>The score column.</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>The predicted-label column (classification).</summary>
    public const string PredictedLabelColumnName = "PredictedLabel";

    /// <summary>The probability column (binary classification).</summary>
    public const string ProbabilityColumnName = "Probability";

    private readonly PredictionFunction function;

    private protected InvertiblePredictionTransformer(IHostEnvironment environment, ISupervisedModel model, string featureColumnName, string labelColumnName,
        TrainingReport? report, OutOfFoldMetrics? outOfFold)
        : base(environment, featureColumnName)
    {
        Model = model;
        LabelColumnName = labelColumnName;
        TrainingReport = report;
        OutOfFold = outOfFold;
        function = new PredictionFunction(this);
    }

    /// <summary>The trained model (TorchSharp): a <see cref="SupervisedEnsemble"/> of cross-fitted members.</summary>
    public ISupervisedModel Model { get; }

    /// <summary>What is predicted.</summary>
    public SupervisedTask Task => Model.Task;

    /// <summary>The label column the model was trained on.</summary>
    public string LabelColumnName { get; }

    /// <summary>What training did (epoch 0 is the linear start), or null for a loaded transformer.</summary>
    public TrainingReport? TrainingReport { get; }

    /// <summary>The model's quality on rows it did not train on (each row scored by the member that held it out).</summary>
    public OutOfFoldMetrics? OutOfFold { get; }

    internal override IBatchFunction Function => function;

    /// <summary>The model's ONNX graph ("x" → "scores", …; see <see cref="EquilibriumExporter"/> and <see cref="ClassifierExporter"/>).</summary>
    public ModelProto ExportOnnx(OnnxExportOptions? options = null) => SupervisedExporter.Export(Model, options);

    /// <summary>The columns this task adds, in order.</summary>
    private protected abstract IReadOnlyList<OutputColumn> Columns { get; }

    /// <summary>The column values of a batch from the model's prediction, in the order of <see cref="Columns"/>.</summary>
    private protected abstract object[] FromPrediction(SupervisedPrediction prediction);

    /// <summary>The saved form's ONNX outputs (graph output → column), ML.NET steps after the graph and their temporary columns.</summary>
    private protected abstract (Dictionary<string, string> Outputs, Func<MLContext, IEstimator<ITransformer>>? After, string[]? Temporary) PersistedOutputs();

    /// <summary>What this task's description adds to the saved transformer's (e.g. the label's key values).</summary>
    private protected virtual void Describe(JsonObject description)
    {
    }

    internal const string Kind = "Supervised";

    internal sealed override PersistedForm Persist()
    {
        var description = new JsonObject
        {
            ["kind"] = Kind, ["featureColumn"] = InputColumnName, ["labelColumn"] = LabelColumnName,
            ["outOfFold"] = OutOfFold is null ? null : JsonSerializer.SerializeToNode(OutOfFold),
        };
        Describe(description);
        var (outputs, after, temporary) = PersistedOutputs();
        return new PersistedForm(ExportOnnx(), "x", outputs, description, Checkpoint.ToBytes((nn.Module)Model), after, temporary);
    }

    // The one switch over the task on the ML.NET side: which transformer, and which output columns.
    internal static InvertiblePredictionTransformer Create(IHostEnvironment environment, nn.Module model, string featureColumnName, string labelColumnName,
        LabelKeys? keys, TrainingReport? report, OutOfFoldMetrics? outOfFold)
    {
        var supervised = (ISupervisedModel)model;
        return supervised.Task switch
        {
            SupervisedTask.MulticlassClassification => new InvertibleMulticlassTransformer(environment, supervised, featureColumnName, labelColumnName,
                keys ?? throw new ArgumentNullException(nameof(keys), "A multiclass model needs its label's key values."), report, outOfFold),
            SupervisedTask.BinaryClassification => new InvertibleBinaryTransformer(environment, supervised, featureColumnName, labelColumnName, report, outOfFold),
            SupervisedTask.Regression => new InvertibleRegressionTransformer(environment, supervised, featureColumnName, labelColumnName, report, outOfFold),
            var task => throw new ArgumentOutOfRangeException(nameof(model), task, "Unknown task."),
        };
    }

    internal static SchemaShape OutputSchema(SupervisedTask task, SchemaShape input, string labelColumn) => task switch
    {
        SupervisedTask.MulticlassClassification => InvertibleMulticlassTransformer.OutputSchema(input, labelColumn),
        SupervisedTask.BinaryClassification => InvertibleBinaryTransformer.OutputSchema(input),
        SupervisedTask.Regression => InvertibleRegressionTransformer.OutputSchema(input),
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, "Unknown task."),
    };

    internal static SupervisedTask TaskOf<TTransformer>() where TTransformer : InvertiblePredictionTransformer
        => typeof(TTransformer) == typeof(InvertibleMulticlassTransformer) ? SupervisedTask.MulticlassClassification
            : typeof(TTransformer) == typeof(InvertibleBinaryTransformer) ? SupervisedTask.BinaryClassification
            : typeof(TTransformer) == typeof(InvertibleRegressionTransformer) ? SupervisedTask.Regression
            : throw new ArgumentException($"No supervised task produces {typeof(TTransformer).Name}.", nameof(TTransformer));

    internal static InvertiblePredictionTransformer Restore(IHostEnvironment environment, JsonObject description, nn.Module model)
        => Create(environment, model, (string)description["featureColumn"]!, (string)description["labelColumn"]!,
            description["keys"] is JsonObject keys ? LabelKeys.Restore(keys) : null, null, description["outOfFold"]?.Deserialize<OutOfFoldMetrics>());

    private protected override void DisposeModel() => ((nn.Module)Model).Dispose();

    private sealed class PredictionFunction(InvertiblePredictionTransformer owner) : IBatchFunction
    {
        private readonly Device device = ((nn.Module)owner.Model).parameters().First().device;

        public int InputWidth => owner.Model.InputFeatures;

        public IReadOnlyList<OutputColumn> Columns => owner.Columns;

        public object[] Compute(ReadOnlySpan<float> input, int rows)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return owner.FromPrediction(SupervisedPrediction.Of(owner.Task, owner.Model.Evaluate(TensorRows.From(input, rows, device)).Scores));
        }
    }
}
