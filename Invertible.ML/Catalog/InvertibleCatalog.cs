using Invertible.ML.Flows;
using Invertible.ML.Hosting;
using Invertible.ML.Persistence;
using Invertible.ML.Trainers;
using Invertible.Torch;

using Microsoft.ML.Data;
using Invertible.Torch.Supervised;
using Invertible.ML.Pipelines;

namespace Microsoft.ML;

/// <summary>The product's entry points on ML.NET's catalogs.</summary>
public static class InvertibleCatalog
{
    /// <summary>
    /// An invertible residual flow trained by maximum likelihood: adds the latent code (<paramref name="outputColumnName"/>)
    /// and the per-row log-likelihood ("LogLikelihood"); the fitted transformer also maps latents back
    /// (<see cref="InvertibleResNetTransformer.Inverse"/>) and samples (<see cref="InvertibleResNetTransformer.Sample"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The latent column. Default "Latent".</param>
    /// <param name="inputColumnName">The input: a known-size vector of Single. Default "Features".</param>
    /// <param name="logLikelihoodColumnName">The log-likelihood column. Default "LogLikelihood".</param>
    public static InvertibleResNetEstimator InvertibleResNet(this TransformsCatalog catalog, string outputColumnName = InvertibleResNetOptions.Defaults.OutputColumnName,
        string inputColumnName = InvertibleResNetOptions.Defaults.FeatureColumnName, string logLikelihoodColumnName = InvertibleResNetOptions.Defaults.LogLikelihoodColumnName)
        => catalog.InvertibleResNet(new InvertibleResNetOptions
        {
            OutputColumnName = outputColumnName, FeatureColumnName = inputColumnName, LogLikelihoodColumnName = logLikelihoodColumnName,
        });

    /// <summary>An invertible residual flow with every option (<see cref="InvertibleResNetOptions"/>).</summary>
    public static InvertibleResNetEstimator InvertibleResNet(this TransformsCatalog catalog, InvertibleResNetOptions options)
        => new(CatalogEnvironment.Of(catalog), options);

    /// <summary>
    /// A deep-equilibrium multiclass classifier: <c>Score</c> (class probabilities) and <c>PredictedLabel</c> (the label's
    /// key type). The label must be a key (<c>MapValueToKey</c>).
    /// </summary>
    public static DeepEquilibriumTrainer<InvertibleMulticlassTransformer> DeepEquilibrium(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features")
        => catalog.DeepEquilibrium(new DeepEquilibriumOptions { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName });

    /// <summary>A deep-equilibrium multiclass classifier with every option (<see cref="DeepEquilibriumOptions"/>).</summary>
    public static DeepEquilibriumTrainer<InvertibleMulticlassTransformer> DeepEquilibrium(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, DeepEquilibriumOptions options)
        => new(CatalogEnvironment.Of(catalog), options);

    /// <summary>
    /// A deep-equilibrium binary classifier: <c>Score</c> (the logit), <c>Probability</c> and <c>PredictedLabel</c>. The
    /// label must be Boolean.
    /// </summary>
    public static DeepEquilibriumTrainer<InvertibleBinaryTransformer> DeepEquilibrium(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features")
        => catalog.DeepEquilibrium(new DeepEquilibriumOptions { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName });

    /// <summary>A deep-equilibrium binary classifier with every option (<see cref="DeepEquilibriumOptions"/>).</summary>
    public static DeepEquilibriumTrainer<InvertibleBinaryTransformer> DeepEquilibrium(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, DeepEquilibriumOptions options)
        => new(CatalogEnvironment.Of(catalog), options);

    /// <summary>A deep-equilibrium regression: <c>Score</c>. The label must be Single.</summary>
    public static DeepEquilibriumTrainer<InvertibleRegressionTransformer> DeepEquilibrium(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features")
        => catalog.DeepEquilibrium(new DeepEquilibriumOptions { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName });

    /// <summary>A deep-equilibrium regression with every option (<see cref="DeepEquilibriumOptions"/>).</summary>
    public static DeepEquilibriumTrainer<InvertibleRegressionTransformer> DeepEquilibrium(this RegressionCatalog.RegressionTrainers catalog, DeepEquilibriumOptions options)
        => new(CatalogEnvironment.Of(catalog), options);

    /// <summary>
    /// A multiclass classifier on an invertible residual feature map with a linear head (and a ReLU layer beside it on images): <c>Score</c> (class
    /// probabilities) and <c>PredictedLabel</c> (the label's key type).
    /// </summary>
    public static InvertibleResNetTrainer InvertibleResNet(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features")
        => catalog.InvertibleResNet(new InvertibleResNetTrainerOptions { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName });

    /// <summary>The i-ResNet multiclass classifier with every option (<see cref="InvertibleResNetTrainerOptions"/>).</summary>
    public static InvertibleResNetTrainer InvertibleResNet(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, InvertibleResNetTrainerOptions options)
        => new(CatalogEnvironment.Of(catalog), options);

    /// <summary>
    /// An anomaly detector: an invertible residual flow trained on (mostly normal) rows; <c>Score</c> = −log p(x) and
    /// <c>PredictedLabel</c> = Score above the threshold that flags <paramref name="falsePositiveRate"/> of held-out
    /// training rows.
    /// </summary>
    public static InvertibleResNetAnomalyTrainer InvertibleResNet(this AnomalyDetectionCatalog.AnomalyDetectionTrainers catalog,
        string featureColumnName = "Features", double falsePositiveRate = InvertibleResNetAnomalyOptions.DefaultFalsePositiveRate)
        => catalog.InvertibleResNet(new InvertibleResNetAnomalyOptions { FeatureColumnName = featureColumnName, FalsePositiveRate = falsePositiveRate });

    /// <summary>The i-ResNet anomaly detector with every option (<see cref="InvertibleResNetAnomalyOptions"/>).</summary>
    public static InvertibleResNetAnomalyTrainer InvertibleResNet(this AnomalyDetectionCatalog.AnomalyDetectionTrainers catalog, InvertibleResNetAnomalyOptions options)
        => new(CatalogEnvironment.Of(catalog), options);

    /// <summary>
    /// Loads a model saved with <c>mlContext.Model.Save</c> and restores the Invertible.ML transformers in it whole —
    /// inverse, sampling, ONNX export and further training included — where a plain <c>Load</c> returns their ONNX
    /// forward scoring. Every zip entry is checked against its CRC-32 and every checkpoint against its SHA-256 first.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is truncated or corrupted, or cannot be loaded.</exception>
    public static ITransformer LoadInvertible(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema)
        => InvertibleModelLoader.Load(catalog, CatalogEnvironment.Of(catalog), File.ReadAllBytes(filePath), out inputSchema);

    /// <summary>Like <see cref="LoadInvertible(ModelOperationsCatalog, string, out DataViewSchema)"/>, from a stream.</summary>
    public static ITransformer LoadInvertible(this ModelOperationsCatalog catalog, Stream stream, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return InvertibleModelLoader.Load(catalog, CatalogEnvironment.Of(catalog), buffer.ToArray(), out inputSchema);
    }

    /// <summary>
    /// Exports a fitted pipeline holding Invertible.ML transformers as one ONNX graph, atomically to
    /// <paramref name="path"/>: the supported way, since <c>mlContext.Model.ConvertToOnnx</c> cannot see inside them
    /// (and fails on such pipelines). Supported steps: affine normalizers written in place (NormalizeMeanVariance,
    /// NormalizeMinMax, …) and Invertible.ML transformers; inputs are the input columns read ([batch, d] float), outputs
    /// every column an Invertible.ML transformer adds (a multiclass PredictedLabel as a 0-based class index, its key
    /// values in the metadata).
    /// </summary>
    /// <exception cref="NotSupportedException">A step cannot be exported (the message names it).</exception>
    public static void ExportInvertibleOnnx(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string path,
        Invertible.Torch.Onnx.OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        Invertible.Torch.Onnx.OnnxModelExtensions.Save(PipelineExporter.Export(model, inputSchema, options), path);
    }
}
