using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Core;

/// <summary>
/// Tensor–number operations whose number is a <see cref="Scalar"/> held until the native call returns. TorchSharp
/// turns a number into a temporary <see cref="Scalar"/> that nothing references once its handle is read; its finalizer
/// can then free it while libtorch still reads it, and the call fails with "Unknown scalar type" (or reads a wrong
/// value) under garbage-collector pressure. The implicit conversions are banned in this repository
/// (build/BannedSymbols.txt); these methods, named as TorchSharp's in Pascal case, take their place. Public for code
/// built on Invertible.Torch (custom layers, losses) that meets the same TorchSharp behaviour.
/// </summary>
public static class HeldScalars
{
    /// <summary>The 1 that TorchSharp's two-tensor add passes as a temporary; a static field keeps it alive.</summary>
    private static readonly Scalar One = 1.0.ToScalar();

    /// <summary>The exponent TorchSharp's square passes as a temporary.</summary>
    private static readonly Scalar Two = 2.0.ToScalar();

    /// <summary>x², as TorchSharp's <c>square</c> computes it, with the exponent held.</summary>
    public static Tensor Square(this Tensor t) => t.pow(Two);

    /// <summary>TorchSharp's <c>add</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Add(this Tensor t, Tensor other) => t.add(other, One);

    /// <summary>TorchSharp's <c>add</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor AddInPlace(this Tensor t, Tensor other) => t.add_(other, One);

    /// <summary>TorchSharp's <c>add</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Add(this Tensor t, double value) { using var s = value.ToScalar(); return t.add(s, One); }

    /// <summary>TorchSharp's <c>add</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Add(this Tensor t, Tensor other, double alpha) { using var s = alpha.ToScalar(); return t.add(other, s); }

    /// <summary>TorchSharp's <c>add_</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor AddInPlace(this Tensor t, double value) { using var s = value.ToScalar(); return t.add_(s, One); }

    /// <summary>TorchSharp's <c>add_</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor AddInPlace(this Tensor t, Tensor other, double alpha) { using var s = alpha.ToScalar(); return t.add_(other, s); }

    /// <summary>TorchSharp's <c>sub</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Sub(this Tensor t, double value) { using var s = value.ToScalar(); return t.sub(s); }

    /// <summary>TorchSharp's <c>sub_</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor SubInPlace(this Tensor t, double value) { using var s = value.ToScalar(); return t.sub_(s); }

    /// <summary>TorchSharp's <c>mul</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Mul(this Tensor t, double value) { using var s = value.ToScalar(); return t.mul(s); }

    /// <summary>TorchSharp's <c>mul_</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor MulInPlace(this Tensor t, double value) { using var s = value.ToScalar(); return t.mul_(s); }

    /// <summary>TorchSharp's <c>div</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Div(this Tensor t, double value) { using var s = value.ToScalar(); return t.div(s); }

    /// <summary>TorchSharp's <c>div_</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor DivInPlace(this Tensor t, double value) { using var s = value.ToScalar(); return t.div_(s); }

    /// <summary>TorchSharp's <c>remainder</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Remainder(this Tensor t, double value) { using var s = value.ToScalar(); return t.remainder(s); }

    /// <summary>TorchSharp's <c>clamp_min</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor ClampMin(this Tensor t, double min) { using var s = min.ToScalar(); return t.clamp_min(s); }

    /// <summary>TorchSharp's <c>clamp</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Clamp(this Tensor t, double min, double max)
    {
        using var low = min.ToScalar();
        using var high = max.ToScalar();
        return t.clamp(low, high);
    }

    /// <summary>TorchSharp's <c>gt</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Gt(this Tensor t, double value) { using var s = value.ToScalar(); return t.gt(s); }

    /// <summary>TorchSharp's <c>ge</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Ge(this Tensor t, double value) { using var s = value.ToScalar(); return t.ge(s); }

    /// <summary>TorchSharp's <c>lt</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Lt(this Tensor t, double value) { using var s = value.ToScalar(); return t.lt(s); }

    /// <summary>TorchSharp's <c>eq</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Eq(this Tensor t, double value) { using var s = value.ToScalar(); return t.eq(s); }

    /// <summary>TorchSharp's <c>fill_</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor FillInPlace(this Tensor t, double value) { using var s = value.ToScalar(); return t.fill_(s); }

    /// <summary>TorchSharp's <c>fill_</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor FillInPlace(this Tensor t, bool value) { using var s = value.ToScalar(); return t.fill_(s); }

    /// <summary>TorchSharp's <c>addcmul_</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor AddcmulInPlace(this Tensor t, Tensor a, Tensor b, double value) { using var s = value.ToScalar(); return t.addcmul_(a, b, s); }

    /// <summary>TorchSharp's <c>addcdiv_</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor AddcdivInPlace(this Tensor t, Tensor a, Tensor b, double value) { using var s = value.ToScalar(); return t.addcdiv_(a, b, s); }

    /// <summary>TorchSharp's <c>full_like</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor FullLike(Tensor like, double value) { using var s = value.ToScalar(); return full_like(like, s); }

    /// <summary>TorchSharp's <c>full</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Full(long size, double value, ScalarType? dtype = null, Device? device = null)
    {
        using var s = value.ToScalar();
        return full(size, s, dtype: dtype, device: device);
    }

    /// <summary>TorchSharp's <c>arange</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Arange(long stop, ScalarType? dtype = null, Device? device = null)
    {
        using var s = stop.ToScalar();
        return arange(s, dtype: dtype, device: device);
    }

    /// <summary>The single value of a one-element tensor as double, read through a Scalar held until it is converted (TorchSharp's <c>ToDouble</c> lets it be finalized early).</summary>
    public static double ReadDouble(this Tensor t) { using var s = t.ToScalar(); return s.ToDouble(); }

    /// <summary>The single value of a one-element tensor as float, read through a Scalar held until it is converted (TorchSharp's <c>ToSingle</c> lets it be finalized early).</summary>
    public static float ReadSingle(this Tensor t) { using var s = t.ToScalar(); return s.ToSingle(); }

    /// <summary>The single value of a one-element tensor as int64, read through a Scalar held until it is converted (TorchSharp's <c>ToInt64</c> lets it be finalized early).</summary>
    public static long ReadInt64(this Tensor t) { using var s = t.ToScalar(); return s.ToInt64(); }

    /// <summary>The single value of a one-element tensor as boolean, read through a Scalar held until it is converted (TorchSharp's <c>ToBoolean</c> lets it be finalized early).</summary>
    public static bool ReadBoolean(this Tensor t) { using var s = t.ToScalar(); return s.ToBoolean(); }

    /// <summary>log(1 + eˣ), written as max(x, 0) + log1p(e^−|x|): stable, and without TorchSharp's softplus, which
    /// converts its β and threshold to temporary Scalars.</summary>
    public static Tensor Softplus(Tensor x) => nn.functional.relu(x).Add(x.abs().neg().exp().log1p());

    /// <summary>TorchSharp's <c>elu</c> with its number held as a Scalar until the call returns.</summary>
    public static Tensor Elu(Tensor x)
    {
        using var one = 1.0.ToScalar();
        return x.elu(one, one, one);
    }

    /// <summary>The largest singular value of each matrix in the last two dimensions (linalg.matrix_norm(·, 2)).</summary>
    public static Tensor SpectralNorm(Tensor matrices) => linalg.svdvals(matrices).amax(-1);
}
