using System.Text.Json.Nodes;
using System.Text.Json;
using Invertible.ML.Data;
using Invertible.ML.Mapping;
using Invertible.ML.Persistence;
using Invertible.Torch.Core;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Flows;
using Invertible.Torch.Onnx;
using Invertible.Torch.Persistence;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Invertible.Torch;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.ML.Trainers;

/// <summary>
/// A trained supervised model (deep-equilibrium network, or i-ResNet features + linear head) as an ML.NET prediction
/// transformer, with ML.NET's output conventions: multiclass adds <c>Score</c> (class probabilities) and
/// <c>PredictedLabel</c> (the label's key type, with its key values); binary adds <c>Score</c> (the logit),
/// <c>Probability</c> and <c>PredictedLabel</c> (Boolean); regression adds <c>Score</c>.
/// </summary>
public sealed class InvertiblePredictionTransformer : BatchedTransformer
{
    /// <summary>The score column.</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>The predicted-label column (classification).</summary>
    public const string PredictedLabelColumnName = "PredictedLabel";

    /// <summary>The probability column (binary classification).</summary>
    public const string ProbabilityColumnName = "Probability";

    private readonly PredictionFunction function;
    private readonly LabelKeys? keys;

    internal InvertiblePredictionTransformer(IHostEnvironment environment, nn.Module model, string featureColumnName, string labelColumnName,
        LabelKeys? keys, TrainingReport? report, OutOfFoldMetrics? outOfFold)
        : base(environment, featureColumnName)
    {
        Model = (ISupervisedModel)model;
        LabelColumnName = labelColumnName;
        TrainingReport = report;
        OutOfFold = outOfFold;
        this.keys = keys;
        OutputColumn[] columns = Model.Task switch
        {
            SupervisedTask.MulticlassClassification =>
            [
                new(ScoreColumnName, OutputKind.FloatVector, Model.Outputs),
                new(PredictedLabelColumnName, OutputKind.Key, KeyType: keys!.KeyType, Annotations: keys.Annotations),
            ],
            SupervisedTask.BinaryClassification =>
            [
                new(ScoreColumnName, OutputKind.Float), new(ProbabilityColumnName, OutputKind.Float), new(PredictedLabelColumnName, OutputKind.Boolean),
            ],
            _ => [new(ScoreColumnName, OutputKind.Float)],
        };
        function = new PredictionFunction(Model, columns);
    }

    /// <summary>The trained model (TorchSharp): a <see cref="Torch.Supervised.SupervisedEnsemble"/> of cross-fitted members.</summary>
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

    internal const string Kind = "Supervised";

    internal override PersistedForm Persist()
    {
        var description = new JsonObject
        {
            ["kind"] = Kind, ["featureColumn"] = InputColumnName, ["labelColumn"] = LabelColumnName, ["keys"] = keys?.Describe(),
            ["outOfFold"] = OutOfFold is null ? null : JsonSerializer.SerializeToNode(OutOfFold),
        };
        var checkpoint = Checkpoint.ToBytes((nn.Module)Model);
        switch (Task)
        {
            case SupervisedTask.MulticlassClassification:
                const string index = "__invertible_class", text = "__invertible_class_name";
                var names = keys!.Names;
                return new PersistedForm(ExportOnnx(), "x",
                    new Dictionary<string, string> { ["probabilities"] = ScoreColumnName, ["predicted_label"] = index }, description, checkpoint,
                    context => context.Transforms.Conversion.MapValue(text, names.Select((name, i) => new KeyValuePair<long, string>(i, name)), index)
                        .Append(context.Transforms.Conversion.MapValueToKey(PredictedLabelColumnName, text,
                            keyData: context.Data.LoadFromEnumerable(names.Select(n => new ClassName { Name = n })))),
                    [index, text]);
            case SupervisedTask.BinaryClassification:
                return new PersistedForm(ExportOnnx(), "x", new Dictionary<string, string>
                {
                    ["scores"] = ScoreColumnName, ["probability"] = ProbabilityColumnName, ["predicted_label"] = PredictedLabelColumnName,
                }, description, checkpoint);
            default:
                return new PersistedForm(ExportOnnx(), "x", new Dictionary<string, string> { ["scores"] = ScoreColumnName }, description, checkpoint);
        }
    }

    internal static InvertiblePredictionTransformer Restore(IHostEnvironment environment, JsonObject description, nn.Module model)
        => new(environment, model, (string)description["featureColumn"]!, (string)description["labelColumn"]!,
            description["keys"] is JsonObject keys ? LabelKeys.Restore(keys) : null, null, description["outOfFold"]?.Deserialize<OutOfFoldMetrics>());

    private protected override void DisposeModel() => ((nn.Module)Model).Dispose();

    private sealed class ClassName
    {
        public string Name { get; set; } = "";
    }

    private sealed class PredictionFunction(ISupervisedModel model, IReadOnlyList<OutputColumn> columns) : IBatchFunction
    {
        private readonly Device device = ((nn.Module)model).parameters().First().device;

        public int InputWidth => model.InputFeatures;

        public IReadOnlyList<OutputColumn> Columns => columns;

        public object[] Compute(ReadOnlySpan<float> input, int rows)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var scores = model.Evaluate(TensorRows.From(input, rows, device)).Scores;
            switch (model.Task)
            {
                case SupervisedTask.MulticlassClassification:
                    var labels = scores.argmax(1).Add(1).to(ScalarType.Int64).cpu().data<long>().ToArray().Select(k => (uint)k).ToArray();
                    return [TensorRows.Floats(scores.softmax(1)), labels];
                case SupervisedTask.BinaryClassification:
                    var logits = scores.squeeze(1);
                    var positive = logits.Gt(0).cpu().data<bool>().ToArray();
                    return [TensorRows.Floats(logits), TensorRows.Floats(logits.sigmoid()), positive];
                default:
                    return [TensorRows.Floats(scores.squeeze(1))];
            }
        }
    }
}
