using System.Globalization;
using System.Reflection;
using Google.Protobuf;
using Onnx;

namespace Invertible.Torch.Onnx;

/// <summary>Wraps a graph into a model with the opset, IR version and the product's metadata.</summary>
internal static class OnnxModelFactory
{
    public static ModelProto Create(OnnxGraphBuilder graph, OnnxExportOptions options, string kind, IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ModelProto
        {
            IrVersion = options.IrVersion,
            ProducerName = "Invertible.ML",
            ProducerVersion = typeof(OnnxModelFactory).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0",
            Domain = "ml.invertible",
            ModelVersion = 1,
            DocString = $"Invertible.ML {kind}",
            Graph = graph.Build(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        var properties = new Dictionary<string, string>(metadata)
        {
            ["invertible.kind"] = kind,
            ["invertible.tolerance"] = options.Tolerance.ToString("R", CultureInfo.InvariantCulture),
            ["invertible.max_iterations"] = options.MaxIterations.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in properties)
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }
}

/// <summary>Serialisation helpers for exported models.</summary>
public static class OnnxModelExtensions
{
    /// <summary>The model's bytes (what ONNX Runtime and ML.NET load).</summary>
    public static byte[] ToBytes(this ModelProto model) => model.ToByteArray();

    /// <summary>Writes the model to <paramref name="path"/>.</summary>
    public static void Save(this ModelProto model, string path) => File.WriteAllBytes(path, model.ToByteArray());

    /// <summary>The model's metadata as a dictionary.</summary>
    public static IReadOnlyDictionary<string, string> Metadata(this ModelProto model) => model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
}
