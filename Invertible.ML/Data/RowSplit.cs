namespace Invertible.ML.Data;

/// <summary>
/// A seeded split of a data view's rows into training and validation by row index: row i is held out when a hash of
/// (seed, i) falls below the fraction. Every pass over the data — and every cursor — agrees on it without storing it.
/// </summary>
internal sealed class RowSplit(double validationFraction, int seed)
{
    /// <summary>The fraction of rows held out.</summary>
    public double ValidationFraction { get; } = validationFraction;

    /// <summary>Whether row <paramref name="index"/> is held out for validation.</summary>
    public bool IsValidation(long index)
    {
        if (ValidationFraction <= 0)
            return false;
        // SplitMix64 of (seed, index): consecutive rows land independently.
        var z = unchecked((ulong)index * 0x9E3779B97F4A7C15UL + (ulong)(uint)seed * 0xD1B54A32D192ED03UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53)) < ValidationFraction;
    }

    /// <summary>Rows of the training part.</summary>
    public Func<long, bool> Training => index => !IsValidation(index);

    /// <summary>Rows of the validation part.</summary>
    public Func<long, bool> Validation => IsValidation;
}
