using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Invertible.Torch.Core;

/// <summary>
/// Small contiguous CPU tensors read and written in place from managed code: the host paths of the solvers and the
/// power iteration, where a libtorch call costs more than the arithmetic it would do.
/// </summary>
internal static class HostTensor
{
    /// <summary>The tensor's memory as a span of <typeparamref name="T"/> (contiguous CPU tensors only).</summary>
    public static Span<T> View<T>(Tensor tensor) where T : unmanaged => MemoryMarshal.Cast<byte, T>(tensor.bytes);

    /// <summary>Copies a contiguous float32 or float64 tensor into <paramref name="values"/> as float64.</summary>
    public static void Read(Tensor tensor, double[] values)
    {
        if (tensor.dtype == ScalarType.Float64)
        {
            View<double>(tensor).CopyTo(values);
            return;
        }
        var floats = View<float>(tensor);
        for (var i = 0; i < values.Length; i++)
            values[i] = floats[i];
    }

    /// <summary>Writes <paramref name="values"/> into a contiguous float32 or float64 tensor (rounded to float32 there).</summary>
    public static void Write(double[] values, Tensor tensor)
    {
        if (tensor.dtype == ScalarType.Float64)
        {
            values.CopyTo(View<double>(tensor));
            return;
        }
        var floats = View<float>(tensor);
        for (var i = 0; i < values.Length; i++)
            floats[i] = (float)values[i];
    }

    /// <summary>A new CPU tensor holding <paramref name="values"/>.</summary>
    public static Tensor From<T>(T[] values, ScalarType dtype) where T : unmanaged
    {
        var result = empty(values.Length, dtype: dtype);
        MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(result.bytes);
        return result;
    }
}
