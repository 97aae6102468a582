using Microsoft.ML.Data;

namespace Invertible.Samples.ImageFiles;

/// <summary>
/// Writes a labelled folder of grayscale PNG files, one subfolder per class: a bright bar, horizontal or vertical, at a
/// random row or column of a noisy square. The orientation is the class; since the bar may sit anywhere, no linear
/// model of the pixels separates the classes.
/// </summary>
internal static class BarImages
{
    public static readonly string[] Classes = ["horizontal", "vertical"];

    /// <summary>Writes <paramref name="perClass"/> images of <paramref name="side"/>² pixels per class under
    /// <paramref name="folder"/>; the same seed writes the same files.</summary>
    public static void Write(string folder, int perClass, int side, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(side, 4);
        var random = new Random(seed);
        var thickness = Math.Max(1, side / 6);
        foreach (var (name, index) in Classes.Select((name, index) => (name, index)))
        {
            Directory.CreateDirectory(Path.Combine(folder, name));
            for (var n = 0; n < perClass; n++)
            {
                var position = random.Next(side - thickness + 1);
                var pixels = new byte[side * side * 4];
                for (var row = 0; row < side; row++)
                {
                    for (var column = 0; column < side; column++)
                    {
                        var across = index == 0 ? row : column;
                        var onBar = across >= position && across < position + thickness;
                        var value = (byte)Math.Clamp(80 + 30 * Normal(random) + (onBar ? 110 : 0), 0, 255);
                        var at = 4 * (row * side + column);
                        (pixels[at], pixels[at + 1], pixels[at + 2], pixels[at + 3]) = (value, value, value, 255);
                    }
                }
                using var image = MLImage.CreateFromPixels(side, side, MLPixelFormat.Bgra32, pixels);
                image.Save(Path.Combine(folder, name, $"{n:D4}.png"));
            }
        }
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
