using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Training;

/// <summary>
/// Training augmentation of image rows: each image moves by its own random whole-pixel offset (dy, dx), |dy|, |dx| ≤
/// <see cref="MaxPixels"/>, its edge pixels repeated into the space it leaves — so a classifier learns what does not
/// depend on where in the frame the object sits.
/// </summary>
public sealed class RandomShift
{
    /// <summary>Shifts images of <paramref name="image"/> by up to <paramref name="maxPixels"/> pixels each way.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPixels"/> is negative or not smaller than a side.</exception>
    public RandomShift(ImageShape image, int maxPixels)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (maxPixels < 0 || maxPixels >= Math.Min(image.Height, image.Width))
            throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, $"Must lie in [0, {Math.Min(image.Height, image.Width)}) for {image} images.");
        (Image, MaxPixels) = (image, maxPixels);
    }

    /// <summary>Shape of the images.</summary>
    public ImageShape Image { get; }

    /// <summary>Largest offset in each direction.</summary>
    public int MaxPixels { get; }

    /// <summary>The rows [n, C·H·W], each image shifted by its own offset drawn from <paramref name="generator"/>.</summary>
    public Tensor Apply(Tensor rows, Generator? generator = null)
    {
        Image.CheckRows(rows, nameof(rows));
        if (MaxPixels == 0)
            return rows;
        var (n, c, h, w, s) = (rows.shape[0], (long)Image.Channels, (long)Image.Height, (long)Image.Width, MaxPixels);
        var padded = nn.functional.pad(Image.Images(rows), [s, s, s, s], PaddingModes.Replicate);
        // Row i reads padded rows dy_i … dy_i + h − 1 and columns dx_i … dx_i + w − 1, dy, dx ∈ [0, 2s] (whole numbers held
        // in floating point, where the held scalars add; exact far beyond any image side).
        var dy = randint(0, 2 * s + 1, [n, 1], dtype: ScalarType.Float32, device: rows.device, generator: generator);
        var dx = randint(0, 2 * s + 1, [n, 1], dtype: ScalarType.Float32, device: rows.device, generator: generator);
        var rowIndex = dy.Add(HeldScalars.Arange(h, ScalarType.Float32, rows.device)).to(ScalarType.Int64).view(n, 1, h, 1).expand(n, c, h, w + 2 * s);
        var columnIndex = dx.Add(HeldScalars.Arange(w, ScalarType.Float32, rows.device)).to(ScalarType.Int64).view(n, 1, 1, w).expand(n, c, h, w);
        return padded.gather(2, rowIndex).gather(3, columnIndex).reshape(n, -1);
    }
}
