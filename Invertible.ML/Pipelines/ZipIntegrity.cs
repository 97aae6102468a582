using System.IO.Compression;
using System.IO.Hashing;

namespace Invertible.ML.Pipelines;

/// <summary>
/// Checks every entry of a saved ML.NET model (a zip) against its recorded length and CRC-32. .NET's
/// <see cref="ZipArchive"/> does not verify CRC-32 when reading (measured on .NET 10), and ML.NET loads some corrupted
/// entries without complaint, so a flipped byte could otherwise load silently with different outputs.
/// </summary>
internal static class ZipIntegrity
{
    /// <summary>The entries' contents by name.</summary>
    /// <exception cref="InvalidDataException">The file is not a zip, or an entry's content does not match its length or CRC-32.</exception>
    public static Dictionary<string, byte[]> Read(byte[] file)
    {
        try
        {
            using var archive = new ZipArchive(new MemoryStream(file), ZipArchiveMode.Read);
            var entries = new Dictionary<string, byte[]>();
            foreach (var entry in archive.Entries)
            {
                using var stream = entry.Open();
                using var content = new MemoryStream();
                stream.CopyTo(content);
                var bytes = content.ToArray();
                if (bytes.LongLength != entry.Length || Crc32.HashToUInt32(bytes) != entry.Crc32)
                    throw new InvalidDataException($"The model file is corrupted: entry '{entry.FullName}' does not match its recorded length and CRC-32.");
                entries[entry.FullName] = bytes;
            }
            return entries;
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"The model file is not a readable zip archive: {e.Message}", e);
        }
    }
}
