using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Core;

/// <summary>Seeded re-initialisation of TorchSharp layers whose constructors draw from the global random source.</summary>
internal static class Initialization
{
    /// <summary>PyTorch's default for linear layers, U(−1/√fan_in, 1/√fan_in) for weight and bias, from <paramref name="generator"/>.</summary>
    public static void Linear(Linear layer, Generator? generator) => FanIn(layer.weight!, layer.bias, generator);

    /// <summary>PyTorch's default for convolutions, U(−1/√fan_in, 1/√fan_in) with fan_in = in channels · kernel area, from <paramref name="generator"/>.</summary>
    public static void Convolution(Conv2d layer, Generator? generator) => FanIn(layer.weight!, layer.bias, generator);

    private static void FanIn(Tensor weight, Tensor? bias, Generator? generator)
    {
        if (generator is null)
            return;
        using var _ = no_grad();
        var bound = 1.0 / Math.Sqrt(weight.numel() / weight.shape[0]);
        Uniform(weight, bound, generator);
        if (bias is not null)
            Uniform(bias, bound, generator);
    }

    // TorchSharp 0.107's nn.init.uniform_ ignores its generator argument (it draws from the global source), so seeded
    // draws go through rand, which honours it.
    private static void Uniform(Tensor parameter, double bound, Generator generator)
    {
        using var draw = rand(parameter.shape, dtype: parameter.dtype, generator: generator);
        parameter.copy_(draw.MulInPlace(2 * bound).SubInPlace(bound));
    }
}
