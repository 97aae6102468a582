using System.Globalization;
using System.Text.Json.Nodes;
using Invertible.ML.Data;
using Invertible.ML.Mapping;
using Invertible.ML.Persistence;
using Invertible.Torch.Flows;
using Invertible.Torch.Onnx;
using Invertible.Torch.Persistence;
using Invertible.Torch.Training;
using Invertible.Torch;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Invertible.ML.Trainers;

/// <summary>
/// A trained flow as an anomaly detector with ML.NET's conventions: <c>Score</c> = −log p(x) (nats; larger is more
/// anomalous) and <c>PredictedLabel</c> = Score &gt; <see cref="Threshold"/>, so <c>mlContext.AnomalyDetection.Evaluate</c>
/// works unchanged.
/// </summary>
public sealed class InvertibleAnomalyTransformer : BatchedTransformer
{
    private readonly ScoreFunction function;

    internal InvertibleAnomalyTransformer(IHostEnvironment environment, InvertibleResNetFlow model, string featureColumnName, double threshold, TrainingReport? report)
        : base(environment, featureColumnName)
    {
        (Model, Threshold, TrainingReport) = (model, threshold, report);
        function = new ScoreFunction(model, threshold, [
            new OutputColumn(InvertiblePredictionTransformer.ScoreColumnName, OutputKind.Float),
            new OutputColumn(InvertiblePredictionTransformer.PredictedLabelColumnName, OutputKind.Boolean)]);
    }

    /// <summary>The trained flow.</summary>
    public InvertibleResNetFlow Model { get; }

    /// <summary>The decision threshold on <c>Score</c>.</summary>
    public double Threshold { get; }

    /// <summary>What training did, or null for a loaded transformer.</summary>
    public TrainingReport? TrainingReport { get; }

    internal override IBatchFunction Function => function;

    internal const string Kind = "InvertibleResNetAnomaly";

    internal override PersistedForm Persist() => new(
        FlowExporter.ExportAnomalyScore(Model, Threshold), "x",
        new Dictionary<string, string> { ["score"] = InvertiblePredictionTransformer.ScoreColumnName, ["is_anomaly"] = InvertiblePredictionTransformer.PredictedLabelColumnName },
        new JsonObject { ["kind"] = Kind, ["featureColumn"] = InputColumnName, ["threshold"] = Threshold.ToString("R", CultureInfo.InvariantCulture) },
        Checkpoint.ToBytes(Model));

    internal static InvertibleAnomalyTransformer Restore(IHostEnvironment environment, JsonObject description, TorchSharp.torch.nn.Module model)
        => new(environment, (InvertibleResNetFlow)model, (string)description["featureColumn"]!,
            double.Parse((string)description["threshold"]!, CultureInfo.InvariantCulture), null);

    private protected override void DisposeModel()
    {
        function.Dispose();
        Model.Dispose();
    }

    /// <summary>−log p(x) through ONNX Runtime where the flow's graph computes the same (<see cref="OnnxForwardScorer.Applies"/>), else TorchSharp.</summary>
    private sealed class ScoreFunction(InvertibleResNetFlow model, double threshold, IReadOnlyList<OutputColumn> columns) : IBatchFunction, IDisposable
    {
        private readonly OnnxForwardScorer scorer = new(model);

        public int InputWidth => model.Features;

        public IReadOnlyList<OutputColumn> Columns => columns;

        public object[] Compute(ReadOnlySpan<float> input, int rows)
        {
            var score = scorer.Forward(input, rows).LogLikelihood;
            for (var i = 0; i < score.Length; i++)
                score[i] = -score[i];
            return [score, score.Select(s => s > threshold).ToArray()];
        }

        public void Dispose() => scorer.Dispose();
    }
}
