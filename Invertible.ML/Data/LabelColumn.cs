using System.Globalization;
using Invertible.Torch.Supervised;
using Invertible.Torch;
using Microsoft.ML.Data;
using Microsoft.ML;

namespace Invertible.ML.Data;

/// <summary>
/// The label a supervised trainer reads, by task: a key (multiclass, read as the class index), a Boolean (binary, read
/// as 0/1) or a Single (regression). Checks name the column and say how to get the right type.
/// </summary>
internal sealed class LabelColumn
{
    private LabelColumn(string name, SupervisedTask task, int classes, DataViewType type)
        => (Name, Task, Classes, Type) = (name, task, classes, type);

    public string Name { get; }

    public SupervisedTask Task { get; }

    /// <summary>Number of classes (the key count) for multiclass; 1 otherwise.</summary>
    public int Classes { get; }

    /// <summary>The column's type (the key type for multiclass).</summary>
    public DataViewType Type { get; }

    /// <exception cref="ArgumentException">Missing column or a type that does not fit the task.</exception>
    public static LabelColumn For(DataViewSchema schema, string name, SupervisedTask task)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentException($"The label column '{name}' was not found in the input.", nameof(schema));
        switch (task)
        {
            case SupervisedTask.MulticlassClassification:
                if (column.Type is not KeyDataViewType { Count: > 1 and <= int.MaxValue } key)
                    throw new ArgumentException($"The label column '{name}' must be a key type with at least 2 values for multiclass classification; it is {column.Type}. Convert it with mlContext.Transforms.Conversion.MapValueToKey(\"{name}\").", nameof(schema));
                return new LabelColumn(name, task, (int)key.Count, column.Type);
            case SupervisedTask.BinaryClassification:
                if (column.Type != BooleanDataViewType.Instance)
                    throw new ArgumentException($"The label column '{name}' must be Boolean for binary classification; it is {column.Type}.", nameof(schema));
                return new LabelColumn(name, task, 1, column.Type);
            default:
                if (column.Type != NumberDataViewType.Single)
                    throw new ArgumentException($"The label column '{name}' must be Single for regression; it is {column.Type}. Convert it with mlContext.Transforms.Conversion.ConvertType(\"{name}\", outputKind: DataKind.Single).", nameof(schema));
                return new LabelColumn(name, task, 1, column.Type);
        }
    }

    /// <summary>A reader of the current row's label as a float: class index (0-based), 0/1, or the value.</summary>
    public Func<long, float> Reader(DataViewRow row)
    {
        var column = row.Schema[Name];
        switch (Task)
        {
            case SupervisedTask.MulticlassClassification:
            {
                var getter = row.GetGetter<uint>(column);
                uint key = 0;
                return index =>
                {
                    getter(ref key);
                    if (key == 0 || key > Classes)
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Column '{Name}', row {index}: the label is missing (key 0); remove such rows or give them a label."));
                    return key - 1;
                };
            }
            case SupervisedTask.BinaryClassification:
            {
                var getter = row.GetGetter<bool>(column);
                var value = false;
                return _ => { getter(ref value); return value ? 1 : 0; };
            }
            default:
            {
                var getter = row.GetGetter<float>(column);
                var value = 0f;
                return index =>
                {
                    getter(ref value);
                    if (!float.IsFinite(value))
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Column '{Name}', row {index}: the label is {value}; labels must be finite."));
                    return value;
                };
            }
        }
    }
}
