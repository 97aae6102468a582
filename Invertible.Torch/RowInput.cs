using static TorchSharp.torch;

namespace Invertible.Torch;

/// <summary>Argument checks for [batch, features] inputs, so bad data fails with a clear message, not inside libtorch.</summary>
internal static class RowInput
{
    public static void Check(Tensor input, int features, string name)
    {
        ArgumentNullException.ThrowIfNull(input, name);
        if (input.dim() != 2 || input.shape[1] != features)
            throw new ArgumentException($"Expected a [batch, {features}] tensor, got shape [{string.Join(", ", input.shape)}].", name);
        if (input.shape[0] == 0)
            throw new ArgumentException("The batch is empty.", name);
        if (!input.is_floating_point())
            throw new ArgumentException($"Expected floating-point values, got {input.dtype}.", name);
    }

    public static void CheckFinite(Tensor input, string name)
    {
        if (!isfinite(input).all().item<bool>())
            throw new ArgumentException("The input contains NaN or infinite values.", name);
    }
}
