using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Invertible.Samples.InferenceService;

/// <summary>
/// The exported models of a folder: <c>{name}.forward.onnx</c> (forward map, from a TorchSharp exporter or a whole ML.NET
/// pipeline written by <c>mlContext.Model.ExportInvertibleOnnx</c>; log-likelihood when it has one) and
/// <c>{name}.inverse.onnx</c> (inverse map with per-row iterations, residuals and convergence flags). Sessions are created once and
/// shared (ONNX Runtime sessions are thread-safe for Run).
/// </summary>
public sealed class ModelStore : IDisposable
{
    private const int MaxRows = 100_000;
    private readonly Dictionary<string, Dictionary<string, Model>> models = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Loads every <c>*.forward.onnx</c> and <c>*.inverse.onnx</c> of <paramref name="folder"/>.</summary>
    public ModelStore(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist (set --models).");
        foreach (var path in Directory.EnumerateFiles(folder, "*.onnx"))
        {
            var file = Path.GetFileNameWithoutExtension(path);
            var dot = file.LastIndexOf('.');
            if (dot <= 0 || file[(dot + 1)..] is not ("forward" or "inverse"))
                continue;
            var name = file[..dot];
            if (!models.TryGetValue(name, out var directions))
                models[name] = directions = new Dictionary<string, Model>();
            directions[file[(dot + 1)..]] = new Model(new InferenceSession(path));
        }
    }

    /// <summary>What is served.</summary>
    public IEnumerable<object> Describe() => models.Select(m => new
    {
        name = m.Key,
        features = m.Value.Values.First().Width,
        operations = Operations(m.Value),
        metadata = m.Value.ToDictionary(d => d.Key, d => d.Value.Session.ModelMetadata.CustomMetadataMap),
    });

    private static IEnumerable<string> Operations(Dictionary<string, Model> directions)
    {
        if (directions.TryGetValue("forward", out var forward))
        {
            yield return "forward";
            if (LogLikelihoodOutput(forward.Session) is not null)
                yield return "score";
        }
        if (directions.ContainsKey("inverse"))
            yield return "inverse";
    }

    /// <summary>Runs <paramref name="operation"/> (forward, score, inverse) of model <paramref name="name"/> on a batch.</summary>
    /// <exception cref="RequestException">Unknown model or operation, or invalid rows.</exception>
    public Dictionary<string, object> Run(string name, string operation, float[][]? rows)
    {
        if (!models.TryGetValue(name, out var directions))
            throw new RequestException(404, $"Unknown model '{name}'. Served: {string.Join(", ", models.Keys)}.");
        var direction = operation.ToLowerInvariant() switch
        {
            "forward" or "score" => "forward",
            "inverse" => "inverse",
            _ => throw new RequestException(404, $"Unknown operation '{operation}'; use forward, score or inverse."),
        };
        if (!directions.TryGetValue(direction, out var model))
            throw new RequestException(404, $"Model '{name}' has no {direction} graph.");
        var outputs = model.Run(Validate(rows, model.Width));
        if (operation.Equals("score", StringComparison.OrdinalIgnoreCase))
        {
            if (LogLikelihoodOutput(model.Session) is not { } output)
                throw new RequestException(404, $"Model '{name}' does not compute a log-likelihood.");
            var scores = outputs[output];
            return new Dictionary<string, object> { ["logLikelihood"] = scores };
        }
        return outputs;
    }

    /// <summary>The log-likelihood output: "log_likelihood" from the exporters, the column name from an ML.NET pipeline.</summary>
    private static string? LogLikelihoodOutput(InferenceSession session)
        => new[] { "log_likelihood", "LogLikelihood" }.FirstOrDefault(session.OutputMetadata.ContainsKey);

    private static float[][] Validate(float[][]? rows, int width)
    {
        if (rows is null || rows.Length == 0)
            throw new RequestException(400, "The request has no rows: send {\"rows\": [[...], ...]}.");
        if (rows.Length > MaxRows)
            throw new RequestException(400, $"At most {MaxRows} rows per request; got {rows.Length}.");
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i] is null || rows[i].Length != width)
                throw new RequestException(400, $"Row {i} has {rows[i]?.Length ?? 0} values; the model expects {width}.");
            for (var j = 0; j < width; j++)
                if (!float.IsFinite(rows[i][j]))
                    throw new RequestException(400, $"Row {i}, column {j} is {rows[i][j].ToString(CultureInfo.InvariantCulture)}; values must be finite.");
        }
        return rows;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var model in models.Values.SelectMany(d => d.Values))
            model.Session.Dispose();
    }

    private sealed class Model(InferenceSession session)
    {
        public InferenceSession Session { get; } = session;

        public string InputName { get; } = session.InputMetadata.Keys.Single();

        public int Width { get; } = session.InputMetadata.Values.Single().Dimensions[^1];

        public Dictionary<string, object> Run(float[][] rows)
        {
            var data = new float[rows.Length * Width];
            for (var i = 0; i < rows.Length; i++)
                rows[i].CopyTo(data, i * Width);
            using var results = Session.Run([NamedOnnxValue.CreateFromTensor(InputName, new DenseTensor<float>(data, [rows.Length, Width]))]);
            return results.ToDictionary(r => r.Name, r => r.Value switch
            {
                DenseTensor<float> t when t.Rank == 2 => (object)Rows(t.ToArray(), t.Dimensions[1]),
                DenseTensor<float> t => t.ToArray(),
                DenseTensor<long> t when t.Rank == 2 => Rows(t.ToArray(), t.Dimensions[1]),
                DenseTensor<long> t => t.ToArray(),
                DenseTensor<bool> t => t.ToArray(),
                _ => throw new InvalidOperationException($"Unsupported output type for {r.Name}."),
            });
        }

        private static T[][] Rows<T>(T[] flat, int width) => Enumerable.Range(0, flat.Length / width).Select(i => flat[(i * width)..((i + 1) * width)]).ToArray();
    }
}
