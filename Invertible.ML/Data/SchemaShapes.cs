using Invertible.ML.Mapping;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.ML.Data;

/// <summary>
/// <see cref="SchemaShape"/> columns for <c>IEstimator.GetOutputSchema</c>. ML.NET keeps the column constructor internal,
/// so the columns are borrowed from estimators that make them: <c>CustomMapping</c> for plain types (a schema-only call,
/// nothing is mapped) and <c>CopyColumns</c> for a copy of an input column (a label's key type with its key values).
/// </summary>
internal static class SchemaShapes
{
    private static readonly MLContext Context = new();

    /// <summary>The input shape with <paramref name="added"/> columns (replacing input columns of the same names).</summary>
    public static SchemaShape With(SchemaShape input, IEnumerable<SchemaShape.Column> added)
    {
        var columns = input.ToDictionary(c => c.Name);
        foreach (var column in added)
            columns[column.Name] = column;
        return new SchemaShape(columns.Values);
    }

    /// <summary>The shape of an output column of a batched transformer (key columns: see <see cref="CopyOf"/>).</summary>
    public static SchemaShape.Column Of(OutputColumn column)
    {
        var definition = SchemaDefinition.Create(typeof(Shapes));
        var member = column.Kind switch
        {
            OutputKind.FloatVector => nameof(Shapes.Vector),
            OutputKind.Float => nameof(Shapes.Scalar),
            OutputKind.Boolean => nameof(Shapes.Flag),
            OutputKind.Int32 => nameof(Shapes.Count),
            _ => throw new ArgumentException($"Key column '{column.Name}' takes its shape from the label (CopyOf).", nameof(column)),
        };
        var item = definition[member];
        item.ColumnName = column.Name;
        if (column.Kind == OutputKind.FloatVector)
            item.ColumnType = new VectorDataViewType(NumberDataViewType.Single, column.Width);
        definition.RemoveAll(c => c != item);
        var shape = Context.Transforms.CustomMapping<NoInput, Shapes>((_, _) => { }, null, null, definition).GetOutputSchema(new SchemaShape([]));
        return shape.Single(c => c.Name == column.Name);
    }

    /// <summary>A column named <paramref name="name"/> shaped like input column <paramref name="source"/> (type, key values).</summary>
    public static SchemaShape.Column CopyOf(SchemaShape input, string source, string name)
        => Context.Transforms.CopyColumns(name, source).GetOutputSchema(input).Single(c => c.Name == name);

    private sealed class NoInput;

    private sealed class Shapes
    {
        public float[] Vector { get; set; } = [];
        public float Scalar { get; set; }
        public bool Flag { get; set; }
        public int Count { get; set; }
    }
}
