using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>Architecture of an <see cref="InvertibleResNetClassifier"/>. Every property has a documented default.</summary>
public sealed class InvertibleResNetClassifierOptions
{
    /// <summary>Residual blocks of the invertible feature map. Default 4.</summary>
    public int Blocks { get; init; } = 4;

    /// <summary>
    /// Width of the feature map: the input is padded with zeros up to it (i-ResNet's augmentation), so the invertible map
    /// has room beyond the input's own dimension. Default (null): the input's width, no padding.
    /// </summary>
    public int? Width { get; init; }

    /// <summary>Hidden width of each block's branch. Default 128.</summary>
    public int HiddenFeatures { get; init; } = 128;

    /// <summary>Linear layers per branch. Default 2.</summary>
    public int Depth { get; init; } = 2;

    /// <summary>Spectral-norm bound per linear layer, in (0, 1). Default 0.9.</summary>
    public double Coefficient { get; init; } = 0.9;

    /// <summary>Activation of the branches. Default LipSwish.</summary>
    public LipschitzActivation Activation { get; init; } = LipschitzActivation.LipSwish;

    /// <summary>Power iterations per training step in each linear layer. Default 5.</summary>
    public int PowerIterations { get; init; } = 5;

    /// <summary>Parameter type. Default float32.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.AtLeast(Width, 1);
        OptionCheck.AtLeast(Blocks, 1);
        OptionCheck.AtLeast(HiddenFeatures, 1);
        OptionCheck.AtLeast(Depth, 1);
        OptionCheck.Coefficient(Coefficient);
        OptionCheck.Defined(Activation);
        OptionCheck.AtLeast(PowerIterations, 1);
        OptionCheck.FloatingPoint(DType);
    }
}
