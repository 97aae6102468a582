using System.Globalization;
using static TorchSharp.torch;

namespace Invertible.Torch.Core;

/// <summary>
/// Argument checks for [batch, features] inputs, so bad data fails with a clear message naming the argument, the row and
/// the column, not inside libtorch or as a silent NaN.
/// </summary>
/// <remarks>
/// The finiteness test costs one host synchronisation. A model checks its input once and evaluates its layers inside
/// <see cref="Trusted"/>, so the layers, whose public methods check too when called alone, do not repeat it.
/// </remarks>
internal static class RowInput
{
    [ThreadStatic]
    private static int trustedDepth;

    /// <summary>Checks shape, type and (outside <see cref="Trusted"/>) finiteness.</summary>
    public static void Check(Tensor input, int features, string name)
    {
        CheckShape(input, features, name);
        if (trustedDepth == 0)
            CheckFinite(input, name);
    }

    /// <summary>Checks shape and type only.</summary>
    public static void CheckShape(Tensor input, int features, string name)
    {
        ArgumentNullException.ThrowIfNull(input, name);
        if (input.dim() != 2 || input.shape[1] != features)
            throw new ArgumentException($"Expected a [batch, {features}] tensor, got shape [{string.Join(", ", input.shape)}].", name);
        if (input.shape[0] == 0)
            throw new ArgumentException("The batch is empty.", name);
        if (!input.is_floating_point())
            throw new ArgumentException($"Expected floating-point values, got {input.dtype}.", name);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first row and column holding NaN or ±∞.</summary>
    public static void CheckFinite(Tensor input, string name)
    {
        if (SmallOnHostAndFinite(input))
            return;
        using (var finite = isfinite(input))
        using (var all = finite.all())
            if (all.item<bool>())
                return;
        using var _ = no_grad();
        var flat = input.detach().reshape(-1).cpu().to(ScalarType.Float64);
        var index = (long)isfinite(flat).logical_not().nonzero()[0, 0].item<long>();
        var columns = input.dim() > 1 ? input.shape[^1] : 1;
        var value = flat[index].item<double>();
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"{name} holds {value} at row {index / columns}, column {index % columns}; every value must be finite."), name);
    }

    /// <summary>Bytes up to which a contiguous CPU batch is checked by reading its memory (on the stack): no tensor
    /// operation, which at batch 1 is a sizeable share of a layer's whole cost.</summary>
    private const int HostCheckBytes = 16 * 1024;

    /// <summary>True when <paramref name="input"/> is a small contiguous CPU float batch whose values are all finite.</summary>
    private static bool SmallOnHostAndFinite(Tensor input)
    {
        if (input.numel() * input.ElementSize > HostCheckBytes || input.device_type != TorchSharp.DeviceType.CPU || !input.is_contiguous())
            return false;
        return input.dtype switch
        {
            ScalarType.Float32 => AllFinite(input, stackalloc float[(int)input.numel()]),
            ScalarType.Float64 => AllFinite(input, stackalloc double[(int)input.numel()]),
            _ => false,
        };
    }

    private static bool AllFinite<T>(Tensor input, Span<T> values) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        input.data<T>().CopyTo(values);
        foreach (var value in values)
            if (!T.IsFinite(value))
                return false;
        return true;
    }

    /// <summary>Within the returned scope, <see cref="Check"/> on this thread skips the finiteness test.</summary>
    public static TrustedScope Trusted()
    {
        trustedDepth++;
        return default;
    }

    /// <summary>Ends a <see cref="Trusted"/> scope.</summary>
    public readonly struct TrustedScope : IDisposable
    {
        public void Dispose() => trustedDepth--;
    }
}
