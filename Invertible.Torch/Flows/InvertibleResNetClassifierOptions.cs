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

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.AtLeast(Width, 1);
        OptionCheck.AtLeast(Blocks, 1);
        ValidateBranch();
    }
}
