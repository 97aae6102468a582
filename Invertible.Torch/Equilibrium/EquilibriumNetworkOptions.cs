using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>Architecture of an <see cref="EquilibriumNetwork"/>. Every property has a documented default.</summary>
public sealed class EquilibriumNetworkOptions
{
    /// <summary>Width of the equilibrium state z. Default 64.</summary>
    public int StateFeatures { get; init; } = 64;

    /// <summary>Width of the projected input injected into the cell. Default 64.</summary>
    public int InjectionFeatures { get; init; } = 64;

    /// <summary>Use the monotone-operator cell instead of the contractive one. Default false.</summary>
    public bool Monotone { get; init; }

    /// <summary>Contractive cell: bound on ‖W‖. Default 0.9.</summary>
    public double Coefficient { get; init; } = 0.9;

    /// <summary>Contractive cell: activation. Default tanh.</summary>
    public LipschitzActivation Activation { get; init; } = LipschitzActivation.Tanh;

    /// <summary>
    /// A linear path from the input to the scores beside the equilibrium features, so the network contains the linear
    /// model (see <see cref="EquilibriumNetwork.InitializeLinear"/>). Default false.
    /// </summary>
    public bool LinearSkip { get; init; }

    /// <summary>Solver and gradient options of the equilibrium layer. Default: <see cref="EquilibriumOptions"/>'s defaults.</summary>
    public EquilibriumOptions Equilibrium { get; init; } = new();

    /// <summary>Parameter type. Default float32.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.AtLeast(StateFeatures, 1);
        OptionCheck.AtLeast(InjectionFeatures, 1);
        OptionCheck.Coefficient(Coefficient);
        OptionCheck.Defined(Activation);
        OptionCheck.FloatingPoint(DType);
        OptionCheck.Required(Equilibrium);
        Equilibrium.Validate();
    }
}
