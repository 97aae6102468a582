using static TorchSharp.torch;

namespace Invertible.Torch.Training;

/// <summary>
/// Where the training loop reads minibatches from: one pass over a set of rows per call, each batch a list of tensors
/// (features, targets, …) that share dimension 0. In memory (<see cref="TensorBatchSource"/>) or streamed from elsewhere
/// (the ML.NET layer reads an <c>IDataView</c> through its cursors).
/// </summary>
public interface IBatchSource
{
    /// <summary>One pass over the rows in batches of at most <paramref name="batchSize"/> rows.</summary>
    /// <param name="batchSize">Rows per batch (the last batch may be smaller).</param>
    /// <param name="shuffle">Whether to visit the rows in a random order (training) or in a fixed one (evaluation).</param>
    /// <param name="seed">The random order's seed; the trainer passes a different one each epoch.</param>
    /// <remarks>Tensors of a batch may be disposed by the caller's dispose scope once the batch has been used.</remarks>
    IEnumerable<IReadOnlyList<Tensor>> Batches(int batchSize, bool shuffle, ulong seed);
}
