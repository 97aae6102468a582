using Invertible.ML.Data;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Invertible.ML.Trainers;

/// <summary>
/// A binary classifier as ML.NET expects one: adds <c>Score</c> (the logit), <c>Probability</c> (its sigmoid) and
/// <c>PredictedLabel</c> (Boolean: the logit is positive).
/// </summary>
public sealed class InvertibleBinaryTransformer : InvertiblePredictionTransformer
{
    internal InvertibleBinaryTransformer(IHostEnvironment environment, ISupervisedModel model, string featureColumnName, string labelColumnName,
        TrainingReport? report, OutOfFoldMetrics? outOfFold)
        : base(environment, model, featureColumnName, labelColumnName, report, outOfFold)
    {
    }

    private static readonly OutputColumn[] Shape =
        [new(ScoreColumnName, OutputKind.Float), new(ProbabilityColumnName, OutputKind.Float), new(PredictedLabelColumnName, OutputKind.Boolean)];

    private protected override IReadOnlyList<OutputColumn> Columns => Shape;

    internal static SchemaShape OutputSchema(SchemaShape input) => SchemaShapes.With(input, [.. Shape.Select(SchemaShapes.Of)]);

    private protected override object[] FromPrediction(SupervisedPrediction prediction)
        => [TensorRows.Floats(prediction.Score), TensorRows.Floats(prediction.Probability!), prediction.PredictedLabel!.cpu().data<bool>().ToArray()];

    private protected override (Dictionary<string, string>, Func<MLContext, IEstimator<ITransformer>>?, string[]?) PersistedOutputs()
        => (new Dictionary<string, string> { ["scores"] = ScoreColumnName, ["probability"] = ProbabilityColumnName, ["predicted_label"] = PredictedLabelColumnName }, null, null);
}
