using Google.Protobuf;
using Invertible.Torch.Core;
using Onnx;

namespace Invertible.Torch.Onnx;

/// <summary>Serialisation helpers for exported models.</summary>
public static class OnnxModelExtensions
{
    /// <summary>The model's bytes (what ONNX Runtime and ML.NET load).</summary>
    public static byte[] ToBytes(this ModelProto model) => model.ToByteArray();

    /// <summary>Writes the model to <paramref name="path"/> atomically: the file is either the whole model or untouched.</summary>
    public static void Save(this ModelProto model, string path) => AtomicFile.Write(path, model.WriteTo);

    /// <summary>The model's metadata as a dictionary.</summary>
    public static IReadOnlyDictionary<string, string> Metadata(this ModelProto model) => model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
}
