using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>Architecture of an invertible residual block y = x + g(x). Every property has a documented default.</summary>
public sealed class ResidualBlockOptions
{
    /// <summary>Default values.</summary>
    public static class Defaults
    {
        /// <summary>Default <see cref="ResidualBlockOptions.HiddenFeatures"/>.</summary>
        public const int HiddenFeatures = 64;
        /// <summary>Default <see cref="ResidualBlockOptions.Depth"/>.</summary>
        public const int Depth = 2;
        /// <summary>Default <see cref="ResidualBlockOptions.Coefficient"/>.</summary>
        public const double Coefficient = 0.97;
        /// <summary>Default <see cref="ResidualBlockOptions.Activation"/>.</summary>
        public const LipschitzActivation Activation = LipschitzActivation.LipSwish;
        /// <summary>Default <see cref="ResidualBlockOptions.PowerIterations"/>.</summary>
        public const int PowerIterations = 1;
    }

    /// <summary>Width of g's hidden layers. Default 64.</summary>
    public int HiddenFeatures { get; init; } = Defaults.HiddenFeatures;

    /// <summary>Number of spectrally normalised linear layers in g. Default 2.</summary>
    public int Depth { get; init; } = Defaults.Depth;

    /// <summary>Spectral-norm bound c of each linear layer, in (0, 1). Default 0.97.</summary>
    public double Coefficient { get; init; } = Defaults.Coefficient;

    /// <summary>1-Lipschitz activation between g's linear layers. Default LipSwish.</summary>
    public LipschitzActivation Activation { get; init; } = Defaults.Activation;

    /// <summary>Power iterations per training forward in each linear layer. Default 1.</summary>
    public int PowerIterations { get; init; } = Defaults.PowerIterations;

    /// <summary>Parameter type. Default float32.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.AtLeast(HiddenFeatures, 1);
        OptionCheck.AtLeast(Depth, 1);
        OptionCheck.Coefficient(Coefficient);
        OptionCheck.Defined(Activation);
        OptionCheck.AtLeast(PowerIterations, 1);
        OptionCheck.FloatingPoint(DType);
    }
}
