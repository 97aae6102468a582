using System.Text.Json.Nodes;
using Invertible.ML.Data;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Invertible.ML.Trainers;

/// <summary>
/// A multiclass classifier as ML.NET expects one: adds <c>Score</c> (the class probabilities, a vector of the class
/// count) and <c>PredictedLabel</c> (the label's key type, with its key values, so <c>MapKeyToValue</c> gives the class).
/// </summary>
public sealed class InvertibleMulticlassTransformer : InvertiblePredictionTransformer
{
    private readonly LabelKeys keys;

    internal InvertibleMulticlassTransformer(IHostEnvironment environment, ISupervisedModel model, string featureColumnName, string labelColumnName,
        LabelKeys keys, TrainingReport? report, OutOfFoldMetrics? outOfFold)
        : base(environment, model, featureColumnName, labelColumnName, report, outOfFold)
    {
        this.keys = keys;
        Columns =
        [
            new(ScoreColumnName, OutputKind.FloatVector, model.Outputs),
            new(PredictedLabelColumnName, OutputKind.Key, KeyType: keys.KeyType, Annotations: keys.Annotations),
        ];
    }

    private protected override IReadOnlyList<OutputColumn> Columns { get; }

    internal static SchemaShape OutputSchema(SchemaShape input, string labelColumn) => SchemaShapes.With(input, [
        SchemaShapes.Of(new(ScoreColumnName, OutputKind.FloatVector, 2)), SchemaShapes.CopyOf(input, labelColumn, PredictedLabelColumnName)]);

    // Probabilities, and the class with the largest score as a 1-based key.
    private protected override object[] FromPrediction(SupervisedPrediction prediction)
        => [TensorRows.Floats(prediction.Probability!), prediction.PredictedLabel!.cpu().data<long>().ToArray().Select(k => (uint)(k + 1)).ToArray()];

    private protected override void Describe(JsonObject description) => description["keys"] = keys.Describe();

    // The graph gives the class index; ML.NET's own steps map it to the label's key type, so a plain Load keeps the key values.
    private protected override (Dictionary<string, string>, Func<MLContext, IEstimator<ITransformer>>?, string[]?) PersistedOutputs()
    {
        const string index = "__invertible_class", text = "__invertible_class_name";
        var names = keys.Names;
        return (new Dictionary<string, string> { ["probabilities"] = ScoreColumnName, ["predicted_label"] = index },
            context => context.Transforms.Conversion.MapValue(text, names.Select((name, i) => new KeyValuePair<long, string>(i, name)), index)
                .Append(context.Transforms.Conversion.MapValueToKey(PredictedLabelColumnName, text,
                    keyData: context.Data.LoadFromEnumerable(names.Select(n => new ClassName { Name = n })))),
            [index, text]);
    }

    private sealed class ClassName
    {
        public string Name { get; set; } = "";
    }
}
