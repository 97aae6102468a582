using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.ML.Data;

/// <summary>Checks of the float-vector columns the models read, with messages that name the column and say what to do.</summary>
internal static class FeatureColumn
{
    /// <summary>The column's width; it must be a known-size vector of Single (of <paramref name="expected"/> values when given).</summary>
    /// <exception cref="ArgumentException">Missing column, wrong type, unknown or wrong size.</exception>
    public static int Width(DataViewSchema schema, string name, int? expected = null, string role = "feature")
    {
        ArgumentNullException.ThrowIfNull(schema);
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentException($"The {role} column '{name}' was not found in the input; it has {Describe(schema)}.", nameof(schema));
        if (column.Type is not VectorDataViewType { ItemType: NumberDataViewType number } vector || number != NumberDataViewType.Single)
            throw new ArgumentException($"The {role} column '{name}' must be a vector of Single; it is {column.Type}. Build it with mlContext.Transforms.Concatenate (and ConvertType for other number types).", nameof(schema));
        if (!vector.IsKnownSize)
            throw new ArgumentException($"The {role} column '{name}' is a vector of unknown size; give it a known size (a SchemaDefinition with VectorDataViewType(Single, n), [VectorType(n)], or Concatenate).", nameof(schema));
        if (expected is { } width && vector.Size != width)
            throw new ArgumentException($"The {role} column '{name}' has {vector.Size} values per row; the model was trained on {width}.", nameof(schema));
        return vector.Size;
    }

    /// <summary>The same check on a <see cref="SchemaShape"/> (which does not record vector sizes).</summary>
    public static void Check(SchemaShape shape, string name, string role = "feature")
    {
        ArgumentNullException.ThrowIfNull(shape);
        var found = shape.Where(c => c.Name == name).ToList();
        if (found.Count == 0)
            throw new ArgumentException($"The {role} column '{name}' was not found in the input; it has {string.Join(", ", shape.Select(c => $"'{c.Name}'"))}.", nameof(shape));
        var column = found[^1];
        if (column.ItemType != NumberDataViewType.Single || column.Kind == SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentException($"The {role} column '{name}' must be a vector of Single; it is {column.Kind} of {column.ItemType}. Build it with mlContext.Transforms.Concatenate.", nameof(shape));
        if (column.Kind == SchemaShape.Column.VectorKind.VariableVector)
            throw new ArgumentException($"The {role} column '{name}' is a vector of unknown size; give it a known size (a SchemaDefinition with VectorDataViewType(Single, n), [VectorType(n)], or Concatenate).", nameof(shape));
    }

    private static string Describe(DataViewSchema schema)
        => schema.Count == 0 ? "no columns" : "columns " + string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"));
}
