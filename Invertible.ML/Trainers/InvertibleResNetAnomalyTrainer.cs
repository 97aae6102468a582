using System.Globalization;
using Invertible.ML.Data;
using Invertible.ML.Flows;
using Invertible.ML.Hosting;
using Invertible.ML.Mapping;
using Invertible.Torch.Core;
using Microsoft.ML.Runtime;
using Microsoft.ML;
using static TorchSharp.torch;

namespace Invertible.ML.Trainers;

/// <summary>
/// Trains an invertible residual flow on normal rows and turns it into an anomaly detector (create it with
/// <c>mlContext.AnomalyDetection.Trainers.InvertibleResNet(…)</c>): the score is −log p(x), and the threshold is set on
/// held-out training rows at the chosen false-positive rate.
/// </summary>
public sealed class InvertibleResNetAnomalyTrainer : IEstimator<InvertibleAnomalyTransformer>
{
    private readonly IHostEnvironment environment;
    private readonly InvertibleResNetAnomalyOptions options;

    /// <summary>Creates the trainer on <paramref name="mlContext"/> (seed and log).</summary>
    public InvertibleResNetAnomalyTrainer(MLContext mlContext, InvertibleResNetAnomalyOptions? options = null)
        : this((IHostEnvironment)(mlContext ?? throw new ArgumentNullException(nameof(mlContext))), options)
    {
    }

    internal InvertibleResNetAnomalyTrainer(IHostEnvironment environment, InvertibleResNetAnomalyOptions? options)
    {
        this.environment = environment;
        this.options = options ?? new InvertibleResNetAnomalyOptions();
        this.options.Validate();
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        FeatureColumn.Check(inputSchema, options.FeatureColumnName);
        return SchemaShapes.With(inputSchema, [
            SchemaShapes.Of(new(InvertiblePredictionTransformer.ScoreColumnName, OutputKind.Float)),
            SchemaShapes.Of(new(InvertiblePredictionTransformer.PredictedLabelColumnName, OutputKind.Boolean))]);
    }

    /// <inheritdoc />
    public InvertibleAnomalyTransformer Fit(IDataView input)
    {
        var (flow, report, split) = new InvertibleResNetEstimator(environment, options).Train(input);
        var width = flow.Features;
        var calibration = split.ValidationFraction > 0 ? split.Validation : split.Training;
        var scores = new List<float>();
        foreach (var batch in new DataViewBatchSource(input, options.FeatureColumnName, width, null, calibration).Batches(1024, shuffle: false, 0))
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            scores.AddRange(TensorRows.Floats(flow.LogProb(batch[0].to(flow.parameters().First().device)).neg()));
        }
        scores.Sort();
        var threshold = scores[Math.Clamp((int)Math.Ceiling((1 - options.FalsePositiveRate) * scores.Count) - 1, 0, scores.Count - 1)];
        new TrainingHost(environment, "InvertibleResNetAnomaly").Info(string.Create(CultureInfo.InvariantCulture,
            $"InvertibleResNetAnomaly: threshold {threshold:F4} (the {1 - options.FalsePositiveRate:P1} quantile of {scores.Count} held-out scores)."));
        return new InvertibleAnomalyTransformer(environment, flow, options.FeatureColumnName, threshold, report);
    }
}
