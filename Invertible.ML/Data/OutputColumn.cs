using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.ML.Data;

/// <summary>The representation of an output column's values in a computed batch.</summary>
internal enum OutputKind
{
    /// <summary>A known-size vector of Single: <c>float[rows × width]</c>.</summary>
    FloatVector,
    /// <summary>Single: <c>float[rows]</c>.</summary>
    Float,
    /// <summary>Boolean: <c>bool[rows]</c>.</summary>
    Boolean,
    /// <summary>Int32: <c>int[rows]</c>.</summary>
    Int32,
    /// <summary>A key (UInt32, 1-based, 0 = missing) of a given key type: <c>uint[rows]</c>.</summary>
    Key,
}

/// <summary>A column a batched transformer adds to its input.</summary>
internal sealed record OutputColumn(string Name, OutputKind Kind, int Width = 1, DataViewType? KeyType = null, DataViewSchema.Annotations? Annotations = null)
{
    public DataViewType Type => Kind switch
    {
        OutputKind.FloatVector => new VectorDataViewType(NumberDataViewType.Single, Width),
        OutputKind.Float => NumberDataViewType.Single,
        OutputKind.Boolean => BooleanDataViewType.Instance,
        OutputKind.Int32 => NumberDataViewType.Int32,
        _ => KeyType ?? throw new InvalidOperationException($"Key column '{Name}' has no key type."),
    };

    /// <summary>A getter that reads this column's value for the current row from a computed batch.</summary>
    /// <param name="current">The current batch's values (one array per output column) and the row's index in it.</param>
    /// <param name="index">This column's index among the outputs.</param>
    public Delegate Getter(Func<(object[] Values, int Row)> current, int index) => Kind switch
    {
        OutputKind.FloatVector => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
        {
            var (values, row) = current();
            var editor = VBufferEditor.Create(ref value, Width);
            ((float[])values[index]).AsSpan(row * Width, Width).CopyTo(editor.Values);
            value = editor.Commit();
        }),
        OutputKind.Float => (ValueGetter<float>)((ref float value) => { var (values, row) = current(); value = ((float[])values[index])[row]; }),
        OutputKind.Boolean => (ValueGetter<bool>)((ref bool value) => { var (values, row) = current(); value = ((bool[])values[index])[row]; }),
        OutputKind.Int32 => (ValueGetter<int>)((ref int value) => { var (values, row) = current(); value = ((int[])values[index])[row]; }),
        _ => (ValueGetter<uint>)((ref uint value) => { var (values, row) = current(); value = ((uint[])values[index])[row]; }),
    };
}
