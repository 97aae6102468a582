using Invertible.ML.Data;
namespace Invertible.ML.Mapping;

/// <summary>What a batched transformer computes: its output columns from a batch of float-vector rows.</summary>
internal interface IBatchFunction
{
    /// <summary>Values per input row.</summary>
    int InputWidth { get; }

    /// <summary>The columns added to the input.</summary>
    IReadOnlyList<OutputColumn> Columns { get; }

    /// <summary>One array per output column (<see cref="OutputKind"/> says which) for <paramref name="rows"/> rows of
    /// <paramref name="input"/> (row-major, rows × <see cref="InputWidth"/>). Must be safe to call from several threads.</summary>
    object[] Compute(ReadOnlySpan<float> input, int rows);
}
