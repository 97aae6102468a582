using static TorchSharp.torch;

namespace Invertible.Torch.Core;

/// <summary>
/// The shape channels × height × width of the images a layer reads from flat rows [batch, channels · height · width]
/// (channel-major, as ML.NET's <c>ExtractPixels</c> writes them by default).
/// </summary>
/// <param name="Channels">Channels (≥ 1).</param>
/// <param name="Height">Height in pixels (≥ 1).</param>
/// <param name="Width">Width in pixels (≥ 1).</param>
public sealed record ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Channels (≥ 1).</summary>
    public int Channels { get; init; } = Channels >= 1 ? Channels : throw new ArgumentOutOfRangeException(nameof(Channels), Channels, "Must be at least 1.");

    /// <summary>Height in pixels (≥ 1).</summary>
    public int Height { get; init; } = Height >= 1 ? Height : throw new ArgumentOutOfRangeException(nameof(Height), Height, "Must be at least 1.");

    /// <summary>Width in pixels (≥ 1).</summary>
    public int Width { get; init; } = Width >= 1 ? Width : throw new ArgumentOutOfRangeException(nameof(Width), Width, "Must be at least 1.");

    /// <summary>Values per image: channels · height · width.</summary>
    public int Size => Channels * Height * Width;

    /// <summary>The rows [batch, Size] as images [batch, channels, height, width] (a view).</summary>
    public Tensor Images(Tensor rows) => rows.view(rows.shape[0], Channels, Height, Width);

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="argument"/> unless it holds rows of this shape's size.</summary>
    public void CheckRows(Tensor rows, string argument)
    {
        if (rows.dim() != 2 || rows.shape[1] != Size)
            throw new ArgumentException($"Expected rows of {Channels}×{Height}×{Width} = {Size} values (shape [batch, {Size}]), got shape [{string.Join(", ", rows.shape)}].", argument);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Channels}×{Height}×{Width}";
}
