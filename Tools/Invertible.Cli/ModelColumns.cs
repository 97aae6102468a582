using System.IO.Compression;
using System.Text.Json;

namespace Invertible.Cli;

/// <summary>
/// The CSV columns a model was trained on — the label and the features, by name — kept in the model file beside what
/// ML.NET writes (an extra zip entry, which ML.NET's <c>Load</c> ignores), so that evaluate and score read the same
/// columns without being told again.
/// </summary>
internal sealed record ModelColumns(string? Label, string[] Features)
{
    private const string Entry = "Invertible/cli-columns.json";

    /// <summary>The model bytes with this record added.</summary>
    public byte[] AddTo(byte[] model)
    {
        using var stream = new MemoryStream();
        stream.Write(model);
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            using var writer = zip.CreateEntry(Entry).Open();
            JsonSerializer.Serialize(writer, this);
        }
        return stream.ToArray();
    }

    /// <summary>The record in <paramref name="modelPath"/>, or null for a model file written without it.</summary>
    public static ModelColumns? ReadFrom(string modelPath)
    {
        try
        {
            using var zip = ZipFile.OpenRead(modelPath);
            if (zip.GetEntry(Entry) is not { } entry)
                return null;
            using var reader = entry.Open();
            return JsonSerializer.Deserialize<ModelColumns>(reader);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException)
        {
            return null;
        }
    }
}
