using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch;

/// <summary>Seeded re-initialisation of TorchSharp layers whose constructors draw from the global random source.</summary>
public static class Initialization
{
    /// <summary>PyTorch's default for linear layers, U(−1/√fan_in, 1/√fan_in) for weight and bias, from <paramref name="generator"/>.</summary>
    public static void Linear(Linear layer, Generator? generator)
    {
        if (generator is null)
            return;
        using var _ = no_grad();
        var bound = 1.0 / Math.Sqrt(layer.weight!.shape[1]);
        nn.init.uniform_(layer.weight, -bound, bound, generator);
        if (layer.bias is not null)
            nn.init.uniform_(layer.bias, -bound, bound, generator);
    }
}
