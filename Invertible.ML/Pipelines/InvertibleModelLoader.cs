using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Invertible.ML.Persistence;
using Invertible.ML.Flows;
using Invertible.ML.Mapping;
using Invertible.ML.Trainers;
using Invertible.Torch.Flows;
using Invertible.Torch.Persistence;
using Invertible.Torch;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.ML.Pipelines;

/// <summary>
/// Loads a saved ML.NET model and puts our transformers back in place of their ONNX stand-ins: each stand-in's graph
/// carries the checkpoint and the description it is rebuilt from (see <see cref="OnnxPersistence"/>).
/// </summary>
internal static partial class InvertibleModelLoader
{
    private static readonly Dictionary<string, Func<IHostEnvironment, JsonObject, nn.Module, BatchedTransformer>> Kinds = new()
    {
        [InvertibleResNetTransformer.Kind] = (environment, description, model) => InvertibleResNetTransformer.Restore(environment, description, (InvertibleResNetFlow)model),
        [InvertibleResNetInverseTransformer.Kind] = (environment, description, model) => InvertibleResNetInverseTransformer.Restore(environment, description, (InvertibleResNetFlow)model),
        [InvertiblePredictionTransformer.Kind] = InvertiblePredictionTransformer.Restore,
        [InvertibleAnomalyTransformer.Kind] = InvertibleAnomalyTransformer.Restore,
    };

    /// <summary>Registers how to rebuild a transformer kind.</summary>
    public static void Register(string kind, Func<IHostEnvironment, JsonObject, nn.Module, BatchedTransformer> restore)
    {
        lock (Kinds)
            Kinds[kind] = restore;
    }

    /// <exception cref="InvalidDataException">The file is corrupted, or a saved transformer cannot be rebuilt.</exception>
    public static ITransformer Load(ModelOperationsCatalog catalog, IHostEnvironment environment, byte[] file, out DataViewSchema inputSchema)
    {
        var entries = ZipIntegrity.Read(file);
        ITransformer model;
        try
        {
            model = catalog.Load(new MemoryStream(file), out inputSchema);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"ML.NET could not load the model: {e.Message}", e);
        }
        foreach (var (name, bytes) in entries.Where(e => e.Key.EndsWith("/OnnxModel", StringComparison.Ordinal)).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (Restore(environment, bytes) is not { } transformer)
                continue;
            var path = TransformIndex().Matches(name).Select(m => int.Parse(m.Groups[1].Value)).ToList();
            // The stand-in chain is [CopyColumns, ApplyOnnxModel, …]: the graph sits at index 1 of it.
            if (path.Count == 0 || path[^1] != 1)
                throw new InvalidDataException($"Unexpected layout of a saved Invertible.ML transformer at '{name}'.");
            model = Replace(model, path[..^1], transformer);
        }
        return model;
    }

    private static BatchedTransformer? Restore(IHostEnvironment environment, byte[] entry)
    {
        ModelProto graph;
        try
        {
            // ML.NET stores the graph after a 4-byte length prefix.
            graph = ModelProto.Parser.ParseFrom(entry.AsSpan(4));
        }
        catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or ArgumentOutOfRangeException)
        {
            throw new InvalidDataException($"A saved ONNX graph cannot be parsed: {e.Message}", e);
        }
        var metadata = graph.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        if (!metadata.TryGetValue(OnnxPersistence.DescriptionKey, out var text))
            return null;
        JsonObject description;
        try
        {
            description = JsonNode.Parse(text)!.AsObject();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"A saved Invertible.ML transformer's description is damaged: {e.Message}", e);
        }
        var kind = (string?)description["kind"] ?? "";
        Func<IHostEnvironment, JsonObject, nn.Module, BatchedTransformer>? restore;
        lock (Kinds)
            Kinds.TryGetValue(kind, out restore);
        if (restore is null)
            throw new InvalidDataException($"The model holds an Invertible.ML transformer of unknown kind '{kind}'.");
        nn.Module checkpoint;
        try
        {
            checkpoint = Checkpoint.Load(Convert.FromBase64String(metadata.GetValueOrDefault(OnnxPersistence.CheckpointKey) ?? ""));
        }
        catch (Exception e) when (e is CheckpointException or FormatException)
        {
            throw new InvalidDataException($"A saved Invertible.ML transformer's checkpoint is damaged: {e.Message}", e);
        }
        return restore(environment, description, checkpoint);
    }

    private static ITransformer Replace(ITransformer node, IReadOnlyList<int> path, ITransformer replacement)
    {
        if (path.Count == 0)
            return replacement;
        if (node is not IEnumerable<ITransformer> chain)
            throw new InvalidDataException($"Expected a transformer chain where a saved Invertible.ML transformer sits; found {node.GetType().Name}.");
        var elements = chain.ToArray();
        if (path[0] >= elements.Length)
            throw new InvalidDataException("A saved Invertible.ML transformer's position lies outside its chain.");
        elements[path[0]] = Replace(elements[path[0]], path.Skip(1).ToList(), replacement);
        return new TransformerChain<ITransformer>(elements);
    }

    [GeneratedRegex(@"Transform_(\d+)")]
    private static partial Regex TransformIndex();
}
