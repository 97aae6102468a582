using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch;

/// <summary>
/// Tensor–number operations whose number is a <see cref="Scalar"/> held until the native call returns. TorchSharp
/// turns a number into a temporary <see cref="Scalar"/> that nothing references once its handle is read; its finalizer
/// can then free it while libtorch still reads it, and the call fails with "Unknown scalar type" (or reads a wrong
/// value) under garbage-collector pressure. The implicit conversions are banned in this repository
/// (build/BannedSymbols.txt); these methods, named as TorchSharp's in Pascal case, take their place.
/// </summary>
internal static class HeldScalars
{
    /// <summary>The 1 that TorchSharp's two-tensor add passes as a temporary; a static field keeps it alive.</summary>
    private static readonly Scalar One = 1.0.ToScalar();

    /// <summary>The exponent TorchSharp's square passes as a temporary.</summary>
    private static readonly Scalar Two = 2.0.ToScalar();

    public static Tensor Square(this Tensor t) => t.pow(Two);

    public static Tensor Add(this Tensor t, Tensor other) => t.add(other, One);

    public static Tensor AddInPlace(this Tensor t, Tensor other) => t.add_(other, One);

    public static Tensor Add(this Tensor t, double value) { using var s = value.ToScalar(); return t.add(s, One); }

    public static Tensor Add(this Tensor t, Tensor other, double alpha) { using var s = alpha.ToScalar(); return t.add(other, s); }

    public static Tensor AddInPlace(this Tensor t, double value) { using var s = value.ToScalar(); return t.add_(s, One); }

    public static Tensor AddInPlace(this Tensor t, Tensor other, double alpha) { using var s = alpha.ToScalar(); return t.add_(other, s); }

    public static Tensor Sub(this Tensor t, double value) { using var s = value.ToScalar(); return t.sub(s); }

    public static Tensor SubInPlace(this Tensor t, double value) { using var s = value.ToScalar(); return t.sub_(s); }

    public static Tensor Mul(this Tensor t, double value) { using var s = value.ToScalar(); return t.mul(s); }

    public static Tensor MulInPlace(this Tensor t, double value) { using var s = value.ToScalar(); return t.mul_(s); }

    public static Tensor Div(this Tensor t, double value) { using var s = value.ToScalar(); return t.div(s); }

    public static Tensor DivInPlace(this Tensor t, double value) { using var s = value.ToScalar(); return t.div_(s); }

    public static Tensor Remainder(this Tensor t, double value) { using var s = value.ToScalar(); return t.remainder(s); }

    public static Tensor ClampMin(this Tensor t, double min) { using var s = min.ToScalar(); return t.clamp_min(s); }

    public static Tensor Clamp(this Tensor t, double min, double max)
    {
        using var low = min.ToScalar();
        using var high = max.ToScalar();
        return t.clamp(low, high);
    }

    public static Tensor Gt(this Tensor t, double value) { using var s = value.ToScalar(); return t.gt(s); }

    public static Tensor Ge(this Tensor t, double value) { using var s = value.ToScalar(); return t.ge(s); }

    public static Tensor Lt(this Tensor t, double value) { using var s = value.ToScalar(); return t.lt(s); }

    public static Tensor Eq(this Tensor t, double value) { using var s = value.ToScalar(); return t.eq(s); }

    public static Tensor FillInPlace(this Tensor t, double value) { using var s = value.ToScalar(); return t.fill_(s); }

    public static Tensor FillInPlace(this Tensor t, bool value) { using var s = value.ToScalar(); return t.fill_(s); }

    public static Tensor AddcmulInPlace(this Tensor t, Tensor a, Tensor b, double value) { using var s = value.ToScalar(); return t.addcmul_(a, b, s); }

    public static Tensor AddcdivInPlace(this Tensor t, Tensor a, Tensor b, double value) { using var s = value.ToScalar(); return t.addcdiv_(a, b, s); }

    public static Tensor FullLike(Tensor like, double value) { using var s = value.ToScalar(); return full_like(like, s); }

    public static Tensor Full(long size, double value, ScalarType? dtype = null, Device? device = null)
    {
        using var s = value.ToScalar();
        return full(size, s, dtype: dtype, device: device);
    }

    public static Tensor Arange(long stop, ScalarType? dtype = null, Device? device = null)
    {
        using var s = stop.ToScalar();
        return arange(s, dtype: dtype, device: device);
    }
    public static double ReadDouble(this Tensor t) { using var s = t.ToScalar(); return s.ToDouble(); }

    public static float ReadSingle(this Tensor t) { using var s = t.ToScalar(); return s.ToSingle(); }

    public static long ReadInt64(this Tensor t) { using var s = t.ToScalar(); return s.ToInt64(); }

    public static bool ReadBoolean(this Tensor t) { using var s = t.ToScalar(); return s.ToBoolean(); }

    /// <summary>log(1 + eˣ), written as max(x, 0) + log1p(e^−|x|): stable, and without TorchSharp's softplus, which
    /// converts its β and threshold to temporary Scalars.</summary>
    public static Tensor Softplus(Tensor x) => nn.functional.relu(x).Add(x.abs().neg().exp().log1p());

    public static Tensor Elu(Tensor x)
    {
        using var one = 1.0.ToScalar();
        return x.elu(one, one, one);
    }

    /// <summary>The largest singular value of each matrix in the last two dimensions (linalg.matrix_norm(·, 2)).</summary>
    public static Tensor SpectralNorm(Tensor matrices) => linalg.svdvals(matrices).amax(-1);
}
