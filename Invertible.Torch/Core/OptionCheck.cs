using System.Globalization;
using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace Invertible.Torch.Core;

/// <summary>
/// The argument checks of every options class of both packages, with one message format: an
/// <see cref="ArgumentOutOfRangeException"/> whose parameter is the option's name, whose actual value is the value given,
/// and whose message says what the option must be ("Must be at least 1.", "Must lie in (0, 1).", "Unknown Activation.").
/// </summary>
public static class OptionCheck
{
    /// <summary>Throws unless <paramref name="value"/> ≥ <paramref name="minimum"/> (null passes: the option's rule applies).</summary>
    public static void AtLeast(int? value, int minimum, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (value < minimum)
            throw Fail(name, value, $"Must be at least {minimum}.");
    }

    /// <summary>Throws unless <paramref name="value"/> lies in [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    public static void Between(int? value, int minimum, int maximum, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (value < minimum || value > maximum)
            throw Fail(name, value, $"Must lie in [{minimum}, {maximum}].");
    }

    /// <summary>Throws unless <paramref name="value"/> is positive and finite (null passes).</summary>
    public static void Positive(double? value, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (value is { } v && !(v > 0 && double.IsFinite(v)))
            throw Fail(name, v, "Must be positive and finite.");
    }

    /// <summary>Throws unless <paramref name="value"/> is non-negative and finite (null passes).</summary>
    public static void NonNegative(double? value, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (value is { } v && !(v >= 0 && double.IsFinite(v)))
            throw Fail(name, v, "Must be finite and non-negative.");
    }

    /// <summary>
    /// Throws unless <paramref name="value"/> lies in the interval from <paramref name="low"/> to <paramref name="high"/>,
    /// each end included or not.
    /// </summary>
    public static void Within(double value, double low, bool lowIncluded, double high, bool highIncluded, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        var aboveLow = lowIncluded ? value >= low : value > low;
        var belowHigh = highIncluded ? value <= high : value < high;
        if (!(aboveLow && belowHigh))
            throw Fail(name, value, string.Create(CultureInfo.InvariantCulture, $"Must lie in {(lowIncluded ? '[' : '(')}{low}, {high}{(highIncluded ? ']' : ')')}."));
    }

    /// <summary>Throws unless <paramref name="value"/> is a Lipschitz coefficient of a contraction: in (0, 1).</summary>
    public static void Coefficient(double value, [CallerArgumentExpression(nameof(value))] string name = "")
        => Within(value, 0, false, 1, false, name);

    /// <summary>Throws unless <paramref name="value"/> is a named member of its enumeration.</summary>
    public static void Defined<TEnum>(TEnum value, [CallerArgumentExpression(nameof(value))] string name = "") where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
            throw Fail(name, value, $"Unknown {typeof(TEnum).Name}.");
    }

    /// <summary>Throws unless <paramref name="value"/> is a floating-point type the models compute in: Float32 or Float64.</summary>
    public static void FloatingPoint(ScalarType value, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (value is not (ScalarType.Float32 or ScalarType.Float64))
            throw Fail(name, value, "Must be Float32 or Float64.");
    }

    /// <summary>Throws unless <paramref name="value"/> is set (a nested options object).</summary>
    public static void Required(object? value, [CallerArgumentExpression(nameof(value))] string name = "")
        => ArgumentNullException.ThrowIfNull(value, name);

    private static ArgumentOutOfRangeException Fail(string name, object? value, string message) => new(name, value, message);
}
