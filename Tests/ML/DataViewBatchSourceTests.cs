using Invertible.ML.Data;
using Invertible.Tests.Support;
using Microsoft.ML;
using static TorchSharp.torch;

namespace Invertible.Tests.ML;

/// <summary>Fit's streaming: every pass visits each row of its part exactly once, shuffled by its seed, in bounded memory.</summary>
[TestClass]
public sealed class DataViewBatchSourceTests
{
    private static IDataView Numbered(MLContext context, int rows, int width)
        // Row i holds i in every slot, so a batch tells which rows it came from.
        => MlData.From(context, arange(rows, dtype: ScalarType.Float32).unsqueeze(1).expand(rows, width).contiguous());

    private static List<int> Rows(DataViewBatchSource source, bool shuffle, ulong seed)
        => source.Batches(100, shuffle, seed).SelectMany(b => b[0][.., 0].data<float>().ToArray().Select(v => (int)v)).ToList();

    [TestMethod]
    [DataRow(2_000, 4)]
    [DataRow(20_000, 64)]
    public void EveryPass_VisitsEachRowOfItsPartOnce_ShuffledBySeed(int rows, int width)
    {
        var context = new MLContext(1);
        var data = Numbered(context, rows, width);
        var split = new RowSplit(0.2, seed: 3);
        var training = new DataViewBatchSource(data, "Features", width, null, split.Training);
        var validation = new DataViewBatchSource(data, "Features", width, null, split.Validation);
        var expectedTraining = Enumerable.Range(0, rows).Where(i => !split.IsValidation(i)).ToList();
        Check.Close(expectedTraining.Count / (double)rows, 0.8, 0.03, "share of training rows");

        var first = Rows(training, shuffle: true, seed: 1);
        var again = Rows(new DataViewBatchSource(data, "Features", width, null, split.Training), shuffle: true, seed: 1);
        var cached = Rows(training, shuffle: true, seed: 1);
        var other = Rows(training, shuffle: true, seed: 2);
        CollectionAssert.AreEquivalent(expectedTraining, first, "a shuffled pass visits each training row once");
        CollectionAssert.AreEquivalent(expectedTraining, cached, "and so does a later pass (from the cache when the data are small)");
        CollectionAssert.AreEqual(first, again, "a fresh source with the same seed gives the same order");
        CollectionAssert.AreNotEqual(first, other, "another seed another order");
        Assert.IsTrue(first.Zip(expectedTraining).Count(p => p.First == p.Second) < rows / 10, "the order is shuffled");
        CollectionAssert.AreEqual(Enumerable.Range(0, rows).Where(i => split.IsValidation(i)).ToList(), Rows(validation, shuffle: false, seed: 0),
            "an evaluation pass streams the validation rows in order");
    }

    [TestMethod]
    public void LargeData_IsStreamedThroughTheShuffleBuffer_AndShuffledAcrossIt()
    {
        var context = new MLContext(1);
        const int rows = 20_000, width = 64;
        // 1.28 million values: more than the cache holds, so every pass streams.
        var source = new DataViewBatchSource(Numbered(context, rows, width), "Features", width, null, _ => true);
        var order = Rows(source, shuffle: true, seed: 5);
        var firstBatch = order.Take(100).ToList();
        Assert.IsTrue(firstBatch.Max() < DataViewBatchSource.ShuffleRows + 100, "a stream can only hand out rows the buffer has seen");
        Assert.IsTrue(order.Skip(rows - DataViewBatchSource.ShuffleRows).Min() < rows - DataViewBatchSource.ShuffleRows,
            "early rows reach the end of the pass: the buffer mixes them across it");
    }
}
