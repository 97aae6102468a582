using SkiaSharp;

namespace Invertible.Benchmarks.Images;

/// <summary>Writes grayscale images (values in [0, 1], row-major, square) as one PNG grid, one list per grid row.</summary>
public static class ImageGrid
{
    public static void Write(string path, IReadOnlyList<IReadOnlyList<float[]>> rows, int side, int scale = 3, int gap = 2)
    {
        var columns = rows.Max(r => r.Count);
        var cell = side * scale + gap;
        using var bitmap = new SKBitmap(columns * cell + gap, rows.Count * cell + gap, SKColorType.Gray8, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(128, 128, 128));
        for (var r = 0; r < rows.Count; r++)
            for (var c = 0; c < rows[r].Count; c++)
                for (var y = 0; y < side * scale; y++)
                    for (var x = 0; x < side * scale; x++)
                    {
                        var level = (byte)Math.Round(255 * Math.Clamp(rows[r][c][y / scale * side + x / scale], 0f, 1f));
                        bitmap.SetPixel(gap + c * cell + x, gap + r * cell + y, new SKColor(level, level, level));
                    }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
