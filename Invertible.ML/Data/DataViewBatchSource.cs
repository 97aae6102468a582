using Invertible.ML.Mapping;
using Invertible.Torch.Core;
using Invertible.Torch.Training;
using Microsoft.ML;
using static TorchSharp.torch;

namespace Invertible.ML.Data;

/// <summary>
/// Minibatches read from an <see cref="IDataView"/> through its cursors: each pass streams the rows of one part of a
/// <see cref="RowSplit"/>, shuffled through a bounded buffer, so memory does not grow with the number of rows. Data
/// small enough (at most <see cref="CacheValues"/> values) is kept after the first pass and shuffled in full.
/// </summary>
/// <remarks>Batches are [features], [features, label] or [features, label, fold]: features float32 [rows, d]; the label
/// int64 class indices (multiclass) or float32 values (binary 0/1, regression); the fold (cross-fitting) int64.</remarks>
internal sealed class DataViewBatchSource : IBatchSource
{
    /// <summary>Rows the shuffle buffer holds.</summary>
    public const int ShuffleRows = 8192;

    /// <summary>Data of at most this many values is cached in memory after the first pass.</summary>
    public const long CacheValues = 1L << 20;

    private readonly IDataView data;
    private readonly string featureColumn;
    private readonly int width;
    private readonly LabelColumn? label;
    private readonly Func<long, bool> include;
    private readonly Device device;
    private readonly Func<long, int>? fold;
    private float[]? cache;
    private int cachedRows;

    public DataViewBatchSource(IDataView data, string featureColumn, int width, LabelColumn? label, Func<long, bool> include, Device? device = null,
        Func<long, int>? fold = null)
    {
        (this.data, this.featureColumn, this.width, this.label, this.include, this.fold) = (data, featureColumn, width, label, include, fold);
        if (fold is not null && label is null)
            throw new ArgumentException("Folds come with a label.", nameof(fold));
        this.device = device ?? CPU;
    }

    private int RowWidth => width + (label is null ? 0 : 1) + (fold is null ? 0 : 1);

    public IEnumerable<IReadOnlyList<Tensor>> Batches(int batchSize, bool shuffle, ulong seed)
    {
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        var rows = cache is null ? Stream() : Cached(shuffle, random);
        if (shuffle && cache is null)
            rows = Shuffled(rows, random);
        var batch = new float[batchSize * RowWidth];
        var count = 0;
        foreach (var row in rows)
        {
            row.CopyTo(batch.AsSpan(count * RowWidth, RowWidth));
            if (++count == batchSize)
            {
                yield return ToTensors(batch, count);
                count = 0;
            }
        }
        if (count > 0)
            yield return ToTensors(batch, count);
    }

    /// <summary>The included rows in order, each as features followed by the label; caches them if they are few.</summary>
    private IEnumerable<float[]> Stream()
    {
        var columns = label is null ? new[] { data.Schema[featureColumn] } : [data.Schema[featureColumn], data.Schema[label.Name]];
        using var cursor = data.GetRowCursor(columns);
        var features = new FeatureRows(cursor, featureColumn, width);
        var readLabel = label?.Reader(cursor);
        var collected = new List<float[]>();
        var cacheable = true;
        long index = -1;
        while (cursor.MoveNext())
        {
            index++;
            if (!include(index))
                continue;
            var row = new float[RowWidth];
            features.Read(row.AsSpan(0, width), index);
            if (readLabel is not null)
                row[width] = readLabel(index);
            if (fold is not null)
                row[width + 1] = fold(index);
            if (cacheable)
            {
                collected.Add(row);
                cacheable = (long)collected.Count * RowWidth <= CacheValues;
                if (!cacheable)
                    collected.Clear();
            }
            yield return row;
        }
        if (cacheable)
        {
            cache = collected.SelectMany(r => r).ToArray();
            cachedRows = collected.Count;
        }
    }

    private IEnumerable<float[]> Cached(bool shuffle, Random random)
    {
        var order = Enumerable.Range(0, cachedRows).ToArray();
        if (shuffle)
            random.Shuffle(order);
        foreach (var i in order)
            yield return cache.AsSpan(i * RowWidth, RowWidth).ToArray();
    }

    /// <summary>A streaming shuffle: rows enter a buffer of <see cref="ShuffleRows"/>, a random one leaves for each that enters.</summary>
    private static IEnumerable<float[]> Shuffled(IEnumerable<float[]> rows, Random random)
    {
        var buffer = new List<float[]>(ShuffleRows);
        foreach (var row in rows)
        {
            if (buffer.Count < ShuffleRows)
            {
                buffer.Add(row);
                continue;
            }
            var slot = random.Next(ShuffleRows);
            yield return buffer[slot];
            buffer[slot] = row;
        }
        var rest = buffer.ToArray();
        random.Shuffle(rest);
        foreach (var row in rest)
            yield return row;
    }

    /// <remarks>The enumerator runs outside the caller's dispose scope; this scope keeps the temporaries referenced until
    /// their native calls return (a temporary tensor nothing references can be finalized in the middle of one).</remarks>
    private Tensor[] ToTensors(float[] batch, int rows)
    {
        using var scope = NewDisposeScope();
        var values = TensorRows.From(batch.AsSpan(0, rows * RowWidth), rows, device);
        var features = values.narrow(1, 0, width).contiguous();
        if (label is null)
            return [features.MoveToOuterDisposeScope()];
        var target = values[.., width];
        target = label.Task == Torch.Supervised.SupervisedTask.MulticlassClassification ? target.to(ScalarType.Int64) : target.contiguous();
        Tensor[] tensors = fold is null ? [features, target] : [features, target, values[.., width + 1].to(ScalarType.Int64)];
        foreach (var tensor in tensors)
            tensor.MoveToOuterDisposeScope();
        return tensors;
    }
}
