using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.ML.Data;

/// <summary>Reads a float-vector column into dense rows, rejecting NaN and ±∞ with the column, row and slot.</summary>
internal sealed class FeatureRows
{
    private readonly ValueGetter<VBuffer<float>> getter;
    private readonly string name;
    private readonly int width;
    private VBuffer<float> buffer;

    public FeatureRows(DataViewRow row, string name, int width)
    {
        getter = row.GetGetter<VBuffer<float>>(row.Schema[name]);
        (this.name, this.width) = (name, width);
    }

    /// <summary>Copies the current row's values into <paramref name="destination"/> (length = width).</summary>
    /// <param name="destination">Where the row goes.</param>
    /// <param name="row">The row's index, for the message.</param>
    /// <exception cref="ArgumentException">The row holds NaN or ±∞, or has the wrong length.</exception>
    public void Read(Span<float> destination, long row)
    {
        getter(ref buffer);
        if (buffer.Length != width)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Column '{name}', row {row}: {buffer.Length} values; expected {width}."));
        buffer.CopyTo(destination);
        for (var j = 0; j < width; j++)
            if (!float.IsFinite(destination[j]))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Column '{name}', row {row}: slot {j} is {destination[j]}; every value must be finite (remove or impute such rows, e.g. with ReplaceMissingValues)."));
    }
}
