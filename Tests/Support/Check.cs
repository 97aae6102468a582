using System.Globalization;
using static TorchSharp.torch;

namespace Invertible.Tests.Support;

/// <summary>Assertions with messages that carry the measured numbers.</summary>
internal static class Check
{
    public static void AtMost(double value, double bound, string what)
        => Assert.IsTrue(value <= bound, string.Create(CultureInfo.InvariantCulture, $"{what}: {value:G6} exceeds {bound:G6}"));

    public static void Less(double value, double bound, string what)
        => Assert.IsTrue(value < bound, string.Create(CultureInfo.InvariantCulture, $"{what}: {value:G6} is not below {bound:G6}"));

    public static void Close(double actual, double expected, double tolerance, string what)
        => Assert.IsTrue(Math.Abs(actual - expected) <= tolerance,
            string.Create(CultureInfo.InvariantCulture, $"{what}: {actual:G10} vs {expected:G10} (|diff| {Math.Abs(actual - expected):G3} > {tolerance:G3})"));

    /// <summary>Largest absolute difference between two tensors of the same shape.</summary>
    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.IsTrue(a.shape.SequenceEqual(b.shape), $"shapes differ: [{string.Join(",", a.shape)}] vs [{string.Join(",", b.shape)}]");
        using var _ = no_grad();
        return a.to(ScalarType.Float64).sub(b.to(ScalarType.Float64)).abs().max().ToDouble();
    }

    /// <summary>Same shape, type and values, bit for bit (NaN-free tensors).</summary>
    public static void Identical(Tensor actual, Tensor expected, string what)
    {
        Assert.IsTrue(actual.shape.SequenceEqual(expected.shape) && actual.dtype == expected.dtype, $"{what}: shape or type differs");
        using var _ = no_grad();
        Assert.IsTrue(actual.eq(expected).all().item<bool>(), $"{what}: values differ (max |diff| {MaxAbsDiff(actual, expected):G3})");
    }

    public static void TensorsClose(Tensor actual, Tensor expected, double tolerance, string what)
        => AtMost(MaxAbsDiff(actual, expected), tolerance, what + " (max |diff|)");
}
