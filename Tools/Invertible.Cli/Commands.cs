using System.Globalization;
using System.Text;
using Invertible.ML.Flows;
using Invertible.ML.Trainers;
using Invertible.Torch.Core;
using Invertible.Torch.Persistence;
using Invertible.Torch.Supervised;
using Invertible.Torch;
using Microsoft.ML.Data;
using Microsoft.ML;

namespace Invertible.Cli;

/// <summary>The actions behind the commands; each reads and checks its inputs before it writes anything.</summary>
internal static class Commands
{
    private const string PredictedText = "PredictedText";

    public static void Train(string dataPath, string modelPath, ModelKind kind, string label, string? features, int? epochs, int seed)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var table = CsvTable.Read(dataPath);
        var context = new MLContext(seed);
        var labelIndex = kind == ModelKind.Flow ? -1 : table.IndexOf(label);
        var columns = CliData.FeatureColumns(table, features, label);
        var rows = table.Floats(columns);
        Console.WriteLine($"{table.Rows.Count} rows, {columns.Length} features ({string.Join(", ", columns.Select(c => table.Header[c]))}); training a {kind.ToString().ToLowerInvariant()}.");
        ITransformer model;
        IDataView data;
        switch (kind)
        {
            case ModelKind.Flow:
            {
                data = CliData.Features(context, rows);
                var options = new InvertibleResNetOptions();
                if (epochs is { } e)
                    options.Epochs = e;
                model = Progress.Fit(options.Epochs, callback => options.ProgressCallback = callback,
                    () => context.Transforms.InvertibleResNet(options).Fit(data));   // no normaliser: its Gaussian start standardises, and outputs stay in the file's units
                break;
            }
            case ModelKind.Classifier:
            {
                data = CliData.WithTextLabel(context, rows, table.Rows.Select(r => r.Cells[labelIndex].Trim()).ToArray());
                var options = new DeepEquilibriumOptions();
                if (epochs is { } e)
                    options.Epochs = e;
                model = Progress.Fit(options.Epochs, callback => options.ProgressCallback = callback,
                    () => context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.NormalizeMeanVariance("Features"))
                        .Append(context.MulticlassClassification.Trainers.DeepEquilibrium(options))
                        .Append(context.Transforms.Conversion.MapKeyToValue(PredictedText, InvertiblePredictionTransformer.PredictedLabelColumnName)).Fit(data));
                break;
            }
            default:
            {
                var targets = table.Floats([labelIndex]).Select(r => r[0]).ToArray();
                data = CliData.WithValueLabel(context, rows, targets);
                var options = new DeepEquilibriumOptions();
                if (epochs is { } e)
                    options.Epochs = e;
                model = Progress.Fit(options.Epochs, callback => options.ProgressCallback = callback,
                    () => context.Transforms.NormalizeMeanVariance("Features").Append(context.Regression.Trainers.DeepEquilibrium(options)).Fit(data));
                break;
            }
        }
        var fitted = watch.Elapsed;
        using var saved = new MemoryStream();
        context.Model.Save(model, data.Schema, saved);
        var bytes = new ModelColumns(kind == ModelKind.Flow ? null : label, [.. columns.Select(c => table.Header[c])]).AddTo(saved.ToArray());
        AtomicFile.Write(modelPath, stream => stream.Write(bytes));
        var quality = Parts(model).OfType<InvertiblePredictionTransformer>().FirstOrDefault()?.OutOfFold is { } outOfFold ? $"; {outOfFold}" : "";
        Console.WriteLine(Invariant($"Trained in {fitted.TotalSeconds:F1} s{quality}. Saved {modelPath}."));
    }

    public static void Evaluate(string dataPath, string modelPath, string? label, string? features)
    {
        var (context, model, kind, width) = Load(modelPath);
        (label, features) = Columns(modelPath, label, features);
        var table = CsvTable.Read(dataPath);
        var data = View(context, table, kind, label, features, width, needLabel: kind != ModelKind.Flow);
        var scored = model.Transform(data);
        switch (kind)
        {
            case ModelKind.Flow:
                var logLikelihood = scored.GetColumn<float>("LogLikelihood").ToArray();
                Console.WriteLine(Invariant($"rows {logLikelihood.Length}; mean log-likelihood {logLikelihood.Average():F4} nats per row; lowest {logLikelihood.Min():F4}"));
                break;
            case ModelKind.Classifier:
                var metrics = context.MulticlassClassification.Evaluate(scored);
                Console.WriteLine(Invariant($"rows {table.Rows.Count}; accuracy {metrics.MicroAccuracy:F4}; macro accuracy {metrics.MacroAccuracy:F4}; log-loss {metrics.LogLoss:F4}"));
                break;
            default:
                var regression = context.Regression.Evaluate(scored);
                Console.WriteLine(Invariant($"rows {table.Rows.Count}; RMSE {regression.RootMeanSquaredError:F4}; MAE {regression.MeanAbsoluteError:F4}; R² {regression.RSquared:F4}"));
                break;
        }
    }

    public static void Score(string dataPath, string modelPath, string outputPath, string? label, string? features)
    {
        var (context, model, kind, width) = Load(modelPath);
        (label, features) = Columns(modelPath, label, features);
        var table = CsvTable.Read(dataPath);
        var transformed = model.Transform(View(context, table, kind, label, features, width, needLabel: false));
        // One pass through the model for every column written.
        var scored = kind switch
        {
            ModelKind.Flow => context.Data.Cache(transformed, "Latent", "LogLikelihood"),
            ModelKind.Classifier => context.Data.Cache(transformed, "Score", PredictedText),
            _ => transformed,
        };
        var csv = new StringBuilder();
        switch (kind)
        {
            case ModelKind.Flow:
                var latents = scored.GetColumn<float[]>("Latent").ToArray();
                csv.AppendLine(string.Join(",", new[] { "log_likelihood" }.Concat(Enumerable.Range(0, width).Select(i => $"latent_{i}"))));
                foreach (var (value, latent) in scored.GetColumn<float>("LogLikelihood").Zip(latents))
                    csv.AppendLine(Row([value, .. latent]));
                break;
            case ModelKind.Classifier:
                var probabilities = scored.GetColumn<float[]>("Score").ToArray();
                var names = ClassNames(scored);
                csv.AppendLine(string.Join(",", new[] { "predicted" }.Concat(names.Select(n => $"p_{n}"))));
                foreach (var (predicted, p) in scored.GetColumn<string>(PredictedText).Zip(probabilities))
                    csv.AppendLine(predicted + "," + Row(p));
                break;
            default:
                csv.AppendLine("score");
                foreach (var value in scored.GetColumn<float>("Score"))
                    csv.AppendLine(Row([value]));
                break;
        }
        Write(outputPath, csv);
    }

    public static void Inverse(string dataPath, string modelPath, string outputPath)
    {
        var flow = Flow(modelPath, out var context, out var width);
        var table = CsvTable.Read(dataPath);
        if (table.Header.Length != width)
            throw new CliException($"{dataPath}: {table.Header.Length} columns, but the model's latent has {width}.");
        var latents = table.Floats(Enumerable.Range(0, width).ToArray());
        var view = context.Data.LoadFromEnumerable(latents.Select(l => new CliData.FeatureRow { Features = l }),
            SchemaWith("Features", width)).ToLatent(context);
        var back = context.Data.Cache(flow.Inverse().Transform(view), "Reconstructed", "ReconstructedIterations", "ReconstructedConverged");
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(",", Enumerable.Range(0, width).Select(i => $"x_{i}").Append("iterations").Append("converged")));
        foreach (var ((x, iterations), converged) in back.GetColumn<float[]>("Reconstructed").Zip(back.GetColumn<int>("ReconstructedIterations")).Zip(back.GetColumn<bool>("ReconstructedConverged")))
            csv.AppendLine(Row(x) + Invariant($",{iterations},{converged}"));
        Write(outputPath, csv);
    }

    public static void Sample(string modelPath, int count, int? seed, string outputPath)
    {
        if (count <= 0)
            throw new CliException($"--count must be positive (got {count}).");
        var flow = Flow(modelPath, out _, out var width);
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(",", Enumerable.Range(0, width).Select(i => $"x_{i}")));
        foreach (var row in flow.Sample(count, seed).GetColumn<float[]>(flow.InputColumnName))
            csv.AppendLine(Row(row));
        Write(outputPath, csv);
    }

    public static void ExportOnnx(string modelPath, string outputPath)
    {
        var (context, model, _, width) = Load(modelPath, out var schema);
        context.Model.ExportInvertibleOnnx(model, schema, outputPath);
        Console.WriteLine($"Wrote {outputPath} (input 'Features', {width} floats per row).");
    }

    private static (MLContext Context, ITransformer Model, ModelKind Kind, int Width) Load(string modelPath) => Load(modelPath, out _);

    /// <summary>The label and feature columns to read: as given, else as the model was trained (else "label" and every other column).</summary>
    private static (string Label, string? Features) Columns(string modelPath, string? label, string? features)
    {
        var trained = ModelColumns.ReadFrom(modelPath);
        return (label ?? trained?.Label ?? DefaultLabel, features ?? (trained is null ? null : string.Join(",", trained.Features)));
    }

    /// <summary>The label column when neither the command line nor the model names one.</summary>
    public const string DefaultLabel = "label";

    private static (MLContext Context, ITransformer Model, ModelKind Kind, int Width) Load(string modelPath, out DataViewSchema schema)
    {
        if (!File.Exists(modelPath))
            throw new CliException($"{modelPath}: no such model file.");
        var context = new MLContext(1);
        ITransformer model;
        try
        {
            model = context.Model.LoadInvertible(modelPath, out schema);
        }
        catch (Exception e) when (e is InvalidDataException or CheckpointException or FormatException)
        {
            throw new CliException($"{modelPath}: not a model this tool can read ({e.Message}).");
        }
        var parts = Parts(model);
        var kind = parts.OfType<InvertiblePredictionTransformer>().FirstOrDefault() is { } predictor
            ? predictor.Model.Task == SupervisedTask.MulticlassClassification ? ModelKind.Classifier : ModelKind.Regressor
            : parts.OfType<InvertibleResNetTransformer>().Any() ? ModelKind.Flow
            : throw new CliException($"{modelPath}: holds neither a flow nor an equilibrium model.");
        var width = schema["Features"].Type is VectorDataViewType { Size: > 0 } vector ? vector.Size : throw new CliException($"{modelPath}: the model's Features column has no fixed size.");
        return (context, model, kind, width);
    }

    private static InvertibleResNetTransformer Flow(string modelPath, out MLContext context, out int width)
    {
        var (loadedContext, model, kind, _) = Load(modelPath);
        if (kind != ModelKind.Flow)
            throw new CliException($"{modelPath}: a {kind.ToString().ToLowerInvariant()} has no inverse or samples; train a flow for that.");
        var flow = Parts(model).OfType<InvertibleResNetTransformer>().Single();
        (context, width) = (loadedContext, flow.Model.Features);
        return flow;
    }

    private static List<ITransformer> Parts(ITransformer model) => model is IEnumerable<ITransformer> chain ? [.. chain] : [model];

    private static IDataView View(MLContext context, CsvTable table, ModelKind kind, string label, string? features, int width, bool needLabel)
    {
        if (needLabel)
            table.IndexOf(label);   // throws, naming the missing column and the ones there are
        var hasLabel = Array.IndexOf(table.Header, label) >= 0;
        var columns = CliData.FeatureColumns(table, features, label);
        if (columns.Length != width)
            throw new CliException($"{table.Path}: {columns.Length} feature columns ({string.Join(", ", columns.Select(c => table.Header[c]))}), but the model takes {width}.");
        var rows = table.Floats(columns);
        if (!hasLabel || kind == ModelKind.Flow)
            return kind == ModelKind.Classifier ? CliData.WithTextLabel(context, rows, rows.Select(_ => "").ToArray())
                : kind == ModelKind.Regressor ? CliData.WithValueLabel(context, rows, new float[rows.Length]) : CliData.Features(context, rows);
        var index = table.IndexOf(label);
        return kind == ModelKind.Classifier
            ? CliData.WithTextLabel(context, rows, table.Rows.Select(r => r.Cells[index].Trim()).ToArray())
            : CliData.WithValueLabel(context, rows, table.Floats([index]).Select(r => r[0]).ToArray());
    }

    private static string[] ClassNames(IDataView scored)
    {
        var names = new VBuffer<ReadOnlyMemory<char>>();
        scored.Schema[InvertiblePredictionTransformer.PredictedLabelColumnName].GetKeyValues(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }

    private static SchemaDefinition SchemaWith(string column, int width)
    {
        var schema = SchemaDefinition.Create(typeof(CliData.FeatureRow));
        schema[column].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }

    private static IDataView ToLatent(this IDataView view, MLContext context) => context.Transforms.CopyColumns("Latent", "Features").Fit(view).Transform(view);

    private static void Write(string path, StringBuilder csv)
    {
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(csv.ToString());
        });
        Console.WriteLine($"Wrote {path}.");
    }

    private static string Row(IEnumerable<float> values) => string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
