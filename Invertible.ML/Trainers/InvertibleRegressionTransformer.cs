using Invertible.ML.Data;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Invertible.ML.Trainers;

/// <summary>A regression model as ML.NET expects one: adds <c>Score</c> (the prediction, in the label's units).</summary>
public sealed class InvertibleRegressionTransformer : InvertiblePredictionTransformer
{
    internal InvertibleRegressionTransformer(IHostEnvironment environment, ISupervisedModel model, string featureColumnName, string labelColumnName,
        TrainingReport? report, OutOfFoldMetrics? outOfFold)
        : base(environment, model, featureColumnName, labelColumnName, report, outOfFold)
    {
    }

    private static readonly OutputColumn[] Shape = [new(ScoreColumnName, OutputKind.Float)];

    private protected override IReadOnlyList<OutputColumn> Columns => Shape;

    internal static SchemaShape OutputSchema(SchemaShape input) => SchemaShapes.With(input, [.. Shape.Select(SchemaShapes.Of)]);

    private protected override object[] FromPrediction(SupervisedPrediction prediction) => [TensorRows.Floats(prediction.Score.squeeze(1))];

    private protected override (Dictionary<string, string>, Func<MLContext, IEstimator<ITransformer>>?, string[]?) PersistedOutputs()
        => (new Dictionary<string, string> { ["scores"] = ScoreColumnName }, null, null);
}
