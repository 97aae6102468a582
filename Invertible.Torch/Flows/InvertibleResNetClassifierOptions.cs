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
        ValidateBranch();
    }
}
