using System.Numerics;
using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>
/// The fixed-count power iteration of a training step, for small CPU matrices, in managed code straight from tensor
/// memory: every layer runs it on every step, and through libtorch its half-dozen tiny products, norms and divisions
/// per iteration cost more than the products themselves. Same scheme as the tensor path: v ← Aᵀu/‖Aᵀu‖, then per
/// iteration u ← Av/‖Av‖ (and v ← Aᵀu/‖Aᵀu‖ between iterations), in the matrix's own precision.
/// </summary>
internal static class HostPowerIteration
{
    /// <summary>Matrices with more entries than this take the tensor path.</summary>
    internal static long MaxElements = 1 << 16;

    /// <summary>Whether the host path can run: a warm u, no convergence test, small dense CPU float tensors.</summary>
    public static bool Applies(Tensor matrix, Tensor? u, SpectralNormOptions options)
        => u is not null && !options.CheckConvergence && matrix.dim() == 2 && u.dim() == 1
           && matrix.numel() <= MaxElements && matrix.dtype is ScalarType.Float32 or ScalarType.Float64
           && u.dtype == matrix.dtype && matrix.device_type == DeviceType.CPU && u.device_type == DeviceType.CPU
           && matrix.is_contiguous() && u.is_contiguous() && u.shape[0] == matrix.shape[0];

    /// <summary>(u, v) after <paramref name="iterations"/> iterations, or null when the tensor path must decide (a zero
    /// product, or a non-finite matrix, which the tensor path reports).</summary>
    public static (Tensor U, Tensor V)? Run(Tensor matrix, Tensor u, int iterations)
        => matrix.dtype == ScalarType.Float32 ? Run<float>(matrix, u, iterations) : Run<double>(matrix, u, iterations);

    private static (Tensor U, Tensor V)? Run<T>(Tensor matrix, Tensor uStart, int iterations)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (rows, columns) = ((int)matrix.shape[0], (int)matrix.shape[1]);
        var a = HostTensor.View<T>(matrix.detach());
        var u = HostTensor.View<T>(uStart.detach()).ToArray();
        var v = new T[columns];
        if (!TransposeTimes(a, rows, columns, u, v))
            return null;
        for (var k = 1; k <= iterations; k++)
        {
            if (!Times(a, rows, columns, v, u))
                return null;
            if (k < iterations && !TransposeTimes(a, rows, columns, u, v))
                return null;
        }
        return (HostTensor.From(u, matrix.dtype), HostTensor.From(v, matrix.dtype));
    }

    // u ← A v / ‖A v‖; false when the norm is zero or not finite.
    private static bool Times<T>(ReadOnlySpan<T> a, int rows, int columns, ReadOnlySpan<T> v, Span<T> u)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var i = 0; i < rows; i++)
            u[i] = Dot(a.Slice(i * columns, columns), v);
        return Normalize(u);
    }

    // v ← Aᵀu / ‖Aᵀu‖, accumulated row by row (A is row-major); false when the norm is zero or not finite.
    private static bool TransposeTimes<T>(ReadOnlySpan<T> a, int rows, int columns, ReadOnlySpan<T> u, Span<T> v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        v.Clear();
        for (var i = 0; i < rows; i++)
        {
            var row = a.Slice(i * columns, columns);
            var scale = u[i];
            var c = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var factor = new Vector<T>(scale);
                for (; c <= columns - Vector<T>.Count; c += Vector<T>.Count)
                    (new Vector<T>(v.Slice(c)) + factor * new Vector<T>(row.Slice(c))).CopyTo(v.Slice(c));
            }
            for (; c < columns; c++)
                v[c] += scale * row[c];
        }
        return Normalize(v);
    }

    private static T Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sum = T.Zero;
        var i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
        {
            var acc = Vector<T>.Zero;
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
                acc += new Vector<T>(x.Slice(i)) * new Vector<T>(y.Slice(i));
            sum = Vector.Sum(acc);
        }
        for (; i < x.Length; i++)
            sum += x[i] * y[i];
        return sum;
    }

    private static bool Normalize<T>(Span<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var norm = T.Sqrt(Dot<T>(x, x));
        if (!(norm > T.Zero) || !T.IsFinite(norm))
            return false;
        foreach (ref var value in x)
            value /= norm;
        return true;
    }
}
