using Invertible.Torch.Core;
using Invertible.Torch.Layers;

namespace Invertible.Torch.Flows;

/// <summary>Architecture of an <see cref="InvertibleResNetClassifier"/>: its blocks' branch (<see cref="ResidualBranchOptions"/>),
/// their number and the feature map's width. Every property has a documented default.</summary>
public sealed class InvertibleResNetClassifierOptions : ResidualBranchOptions
{
    /// <summary>Residual blocks of the invertible feature map. Default 4.</summary>
    public int Blocks { get; init; } = 4;

    /// <summary>
    /// Width of the feature map: the input is padded with zeros up to it (i-ResNet's augmentation), so the invertible map
    /// has room beyond the input's own dimension. Default (null): the input's width, no padding.
    /// </summary>
    public int? Width { get; init; }

    /// <summary>
    /// The input rows are images of this shape (channel-major): the blocks' branches are then convolutional
    /// (<see cref="ContractiveMlp.Convolutional"/>, <see cref="ResidualBranchOptions.HiddenFeatures"/> hidden channels),
    /// and <see cref="Width"/>, a multiple of height × width, pads whole zero channels. Default null: dense blocks on rows.
    /// </summary>
    public ImageShape? Image { get; init; }

    /// <summary>
    /// Image only: scales of the feature map. The blocks are split evenly across them, and between two scales a
    /// <see cref="SpaceToDepth"/> squeezes 2×2 pixels into channels, so later blocks see farther at a quarter of the pixels.
    /// Default (null): as many as the sides allow (each halves them), at most 2.
    /// </summary>
    public int? Scales { get; init; }

    /// <summary>
    /// Image only: squeezes (<see cref="SpaceToDepth"/>) before the first block, each trading 2×2 pixels for channels.
    /// Default (null): while the maps have more than 256 pixels and even sides (28×28 → 14×14, 32×32 → 16×16, 8×8 stays):
    /// a 3×3 convolution over few channels on many pixels is memory-bound on a CPU (1 → 4 channels at 28×28 ran at a tenth of
    /// the rate of 16 → 64 at 14×14), and the squeezed blocks see twice as far.
    /// </summary>
    public int? InputSqueezes { get; init; }

    /// <summary>
    /// Hidden units of the head's nonlinear part: scores = H z + c + V relu(U z + d) on the features z. V starts at zero,
    /// so the model starts as its linear head. Default 0: the head is linear.
    /// </summary>
    public int HeadHidden { get; init; }

    internal int InputSqueezesFor(ImageShape image)
    {
        // Halvings of both sides while they are even and the pixels satisfy the condition.
        int Halvings(Func<int, bool> pixels)
        {
            var count = 0;
            for (var (h, w) = (image.Height, image.Width); h % 2 == 0 && w % 2 == 0 && pixels(h * w); h /= 2, w /= 2)
                count++;
            return count;
        }
        var possible = Halvings(_ => true);
        if (InputSqueezes > possible)
            throw new ArgumentException($"{InputSqueezes} input squeezes need a height and width divisible by {1 << InputSqueezes.Value}; {image} allows {possible}.", nameof(InputSqueezes));
        return InputSqueezes ?? Halvings(pixels => pixels > 256);
    }

    internal int ScalesFor(ImageShape image)
    {
        var possible = 1;
        while (possible < Blocks && image.Height % (1 << possible) == 0 && image.Width % (1 << possible) == 0)
            possible++;
        if (Scales > possible)
            throw new ArgumentException($"{Scales} scales need a height and width divisible by {1 << (Scales.Value - 1)} and at least as many blocks; {image} with {Blocks} blocks allows {possible}.", nameof(Scales));
        return Scales ?? Math.Min(possible, 2);
    }

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.AtLeast(Width, 1);
        OptionCheck.AtLeast(Blocks, 1);
        OptionCheck.AtLeast(Scales, 1);
        OptionCheck.AtLeast(InputSqueezes, 0);
        OptionCheck.AtLeast(HeadHidden, 0);
        ValidateBranch();
    }
}
