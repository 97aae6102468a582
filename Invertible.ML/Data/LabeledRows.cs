using Invertible.ML.Mapping;
using Invertible.Torch.Core;
using Microsoft.ML;
using static TorchSharp.torch;

namespace Invertible.ML.Data;

/// <summary>
/// One pass over a feature and a label column: every row's label (for the folds), and the feature rows in memory for
/// the linear start — all of them up to <see cref="MaxValues"/> values, beyond that every s-th row, s the smallest power
/// of two that keeps the sample within that size (the network itself then trains from the stream).
/// </summary>
internal sealed class LabeledRows
{
    /// <summary>Feature values kept in memory at most (64 M floats, 256 MB).</summary>
    public const long MaxValues = 1L << 26;

    private LabeledRows(float[] labels, float[] features, long[] sampled, int width)
        => (Labels, Features, Sampled, Width) = (labels, features, sampled, width);

    /// <summary>Every row's label: class index, 0/1, or the value.</summary>
    public float[] Labels { get; }

    /// <summary>The kept feature rows, row-major.</summary>
    public float[] Features { get; }

    /// <summary>The row index of each kept row.</summary>
    public long[] Sampled { get; }

    /// <summary>Features per row.</summary>
    public int Width { get; }

    /// <summary>Rows in the data.</summary>
    public long Rows => Labels.LongLength;

    /// <summary>Reads the columns (non-finite features and missing labels throw, naming column and row).</summary>
    public static LabeledRows Read(IDataView data, string featureColumn, int width, LabelColumn label)
    {
        long stride = 1;
        if (data.GetRowCount() is { } known)
            while (known * width > MaxValues * stride)
                stride *= 2;
        using var cursor = data.GetRowCursor([data.Schema[featureColumn], data.Schema[label.Name]]);
        var reader = new FeatureRows(cursor, featureColumn, width);
        var readLabel = label.Reader(cursor);
        var labels = new List<float>();
        var features = new List<float>();
        var sampled = new List<long>();
        var row = new float[width];
        long index = -1;
        while (cursor.MoveNext())
        {
            index++;
            labels.Add(readLabel(index));
            reader.Read(row, index);
            if (index % stride != 0)
                continue;
            features.AddRange(row);
            sampled.Add(index);
            if (features.Count > MaxValues)
            {
                // More rows than announced: keep every other kept row and double the stride.
                stride *= 2;
                var keep = Enumerable.Range(0, sampled.Count).Where(i => sampled[i] % stride == 0).ToList();
                var thinned = new List<float>(keep.Count * width);
                foreach (var k in keep)
                    thinned.AddRange(features.GetRange(k * width, width));
                (features, sampled) = (thinned, [.. keep.Select(k => sampled[k])]);
            }
        }
        return new LabeledRows([.. labels], [.. features], [.. sampled], width);
    }

    /// <summary>The kept rows' features [rows, width] (float64) and labels.</summary>
    public (Tensor Features, Tensor Labels) SampleTensors()
    {
        var x = tensor(Features, [Sampled.LongLength, Width]).to(ScalarType.Float64);
        var y = tensor(Sampled.Select(r => Labels[r]).ToArray());
        return (x, y);
    }
}
