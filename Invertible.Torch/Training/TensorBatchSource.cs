using static TorchSharp.torch;

namespace Invertible.Torch.Training;

/// <summary>Minibatches of in-memory tensors whose rows (dimension 0) belong together.</summary>
public sealed class TensorBatchSource : IBatchSource
{
    private readonly Tensor[] data;

    /// <summary>Serves the rows of <paramref name="data"/>; every tensor must have the same number of rows.</summary>
    public TensorBatchSource(IReadOnlyList<Tensor> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new ArgumentException("No data tensors.", nameof(data));
        Rows = data[0].shape[0];
        if (data.Any(t => t.dim() == 0 || t.shape[0] != Rows))
            throw new ArgumentException($"All data tensors need the same number of rows; got {string.Join(", ", data.Select(t => t.dim() == 0 ? 0 : t.shape[0]))}.", nameof(data));
        this.data = [.. data];
    }

    /// <summary>Number of rows.</summary>
    public long Rows { get; }

    /// <summary>A seeded random split into <paramref name="fraction"/> of the rows (rounded up) and the rest.</summary>
    public (TensorBatchSource Kept, TensorBatchSource? Held) Split(double fraction, ulong seed)
    {
        if (!(fraction >= 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "Must lie in [0, 1).");
        var held = (long)Math.Ceiling(fraction * Rows);
        if (held == 0)
            return (this, null);
        if (Rows - held < 1)
            throw new ArgumentException($"{Rows} rows leave none after holding out {fraction} of them.", nameof(fraction));
        var order = randperm(Rows, generator: new TorchSharp.torch.Generator(seed));
        return (Select(order.narrow(0, held, Rows - held)), Select(order.narrow(0, 0, held)));
    }

    /// <inheritdoc />
    public IEnumerable<IReadOnlyList<Tensor>> Batches(int batchSize, bool shuffle, ulong seed)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Must be at least 1.");
        var order = shuffle ? randperm(Rows, generator: new TorchSharp.torch.Generator(seed)) : null;
        for (long start = 0; start < Rows; start += batchSize)
        {
            var end = Math.Min(start + batchSize, Rows);
            yield return order is null
                ? data.Select(t => t.narrow(0, start, end - start)).ToArray()
                : data.Select(t => t.index_select(0, order.narrow(0, start, end - start))).ToArray();
        }
    }

    private TensorBatchSource Select(Tensor indices) => new(data.Select(t => t.index_select(0, indices)).ToArray());
}
