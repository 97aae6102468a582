using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Samples.Shared;

/// <summary>The energy distance D² = 2 E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ between two samples (0 iff same distribution).</summary>
public static class EnergyDistance
{
    /// <summary>The (V-statistic) energy distance between the rows of <paramref name="a"/> and of <paramref name="b"/>.</summary>
    public static double Between(Tensor a, Tensor b)
    {
        var x = a.to(ScalarType.Float64);
        var y = b.to(ScalarType.Float64);
        return 2 * cdist(x, y).mean().ToDouble() - cdist(x, x).mean().ToDouble() - cdist(y, y).mean().ToDouble();
    }
}
