using Invertible.ML.Data;
using Invertible.ML.Mapping;
using Invertible.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Tests.ML;

[TestClass]
public sealed class TensorRowsTests
{
    /// <summary>
    /// A batch read from anywhere in a managed buffer gives bit-identical model outputs: otherwise the same row scored
    /// twice (or saved and loaded) differs in the last bit with where the GC placed the buffer.
    /// </summary>
    [TestMethod]
    public void From_GivesBitIdenticalResults_WhereverTheRowsSitInManagedMemory()
    {
        var generator = new Generator(2);
        var layer = nn.Linear(4, 8);
        using var _ = no_grad();
        layer.weight!.copy_(randn([8, 4], generator: generator));
        var rows = randn([300, 4], generator: generator);
        var expected = layer.call(rows);
        var values = rows.data<float>().ToArray();
        for (var offset = 0; offset < 16; offset++)
        {
            var buffer = new float[values.Length + offset];
            values.CopyTo(buffer, offset);
            Check.Identical(layer.call(TensorRows.From(buffer.AsSpan(offset), 300, CPU)), expected, $"rows at float offset {offset}");
        }
    }
}
