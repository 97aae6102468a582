using System.Globalization;
using System.Text.Json.Nodes;
using Invertible.Torch.Core;
using Microsoft.ML.Data;
using Microsoft.ML;

namespace Invertible.ML.Trainers;

/// <summary>
/// The key type of a multiclass label and its key values, so that <c>PredictedLabel</c> has exactly the label's type
/// (and <c>MapKeyToValue</c> turns predictions back into the original values). Key values of text, number and Boolean
/// types are kept; they also travel in the saved description.
/// </summary>
internal sealed class LabelKeys
{
    private const string KeyValuesKind = "KeyValues";
    private static readonly Dictionary<Type, DataViewType> ItemTypes = new()
    {
        [typeof(ReadOnlyMemory<char>)] = TextDataViewType.Instance, [typeof(float)] = NumberDataViewType.Single,
        [typeof(double)] = NumberDataViewType.Double, [typeof(int)] = NumberDataViewType.Int32, [typeof(uint)] = NumberDataViewType.UInt32,
        [typeof(long)] = NumberDataViewType.Int64, [typeof(ulong)] = NumberDataViewType.UInt64, [typeof(bool)] = BooleanDataViewType.Instance,
    };

    private LabelKeys(int count, Type? itemType, string[]? values)
    {
        Count = count;
        ItemType = itemType;
        Values = values;
        KeyType = new KeyDataViewType(typeof(uint), count);
        Annotations = itemType is null ? null : BuildAnnotations(itemType, values!);
    }

    /// <summary>Number of classes.</summary>
    public int Count { get; }

    /// <summary>The type of the key values, or null when the label has none (or of a type not kept).</summary>
    public Type? ItemType { get; }

    /// <summary>The key values as invariant text, in key order, or null.</summary>
    public string[]? Values { get; }

    /// <summary>The label's key type.</summary>
    public KeyDataViewType KeyType { get; }

    /// <summary>The KeyValues annotation for <c>PredictedLabel</c>, or null.</summary>
    public DataViewSchema.Annotations? Annotations { get; }

    /// <summary>Text names of the classes in key order (the key values, or "1" … "K").</summary>
    public string[] Names => Values ?? Enumerable.Range(1, Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    public static LabelKeys Of(DataViewSchema.Column label)
    {
        var count = (int)((KeyDataViewType)label.Type).Count;
        var annotation = label.Annotations.Schema.GetColumnOrNull(KeyValuesKind);
        if (annotation?.Type is not VectorDataViewType { ItemType: var item } || !ItemTypes.ContainsValue(item))
            return new LabelKeys(count, null, null);
        var itemType = item.RawType;
        var read = typeof(LabelKeys).GetMethod(nameof(Read), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(itemType);
        return new LabelKeys(count, itemType, (string[])read.Invoke(null, [label.Annotations])!);
    }

    public JsonObject Describe() => new()
    {
        ["count"] = Count, ["itemType"] = ItemType?.Name, ["values"] = Values is null ? null : new JsonArray(Values.Select(v => (JsonNode)v).ToArray()),
    };

    public static LabelKeys Restore(JsonObject description)
    {
        var itemTypeName = (string?)description["itemType"];
        var itemType = itemTypeName is null ? null : ItemTypes.Keys.Single(t => t.Name == itemTypeName);
        var values = description["values"]?.AsArray().Select(v => (string)v!).ToArray();
        return new LabelKeys((int)description["count"]!, itemType, values);
    }

    private static string[] Read<T>(DataViewSchema.Annotations annotations)
    {
        VBuffer<T> buffer = default;
        annotations.GetValue(KeyValuesKind, ref buffer);
        return buffer.DenseValues().Select(v => v is IFormattable f ? f.ToString("R", CultureInfo.InvariantCulture) : v!.ToString()!).ToArray();
    }

    private static DataViewSchema.Annotations BuildAnnotations(Type itemType, string[] values)
    {
        var build = typeof(LabelKeys).GetMethod(nameof(Build), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(itemType);
        return (DataViewSchema.Annotations)build.Invoke(null, [values])!;
    }

    private static DataViewSchema.Annotations Build<T>(string[] values)
    {
        var parsed = values.Select(Parse<T>).ToArray();
        var builder = new DataViewSchema.Annotations.Builder();
        builder.Add(KeyValuesKind, new VectorDataViewType((PrimitiveDataViewType)ItemTypes[typeof(T)], values.Length),
            (ref VBuffer<T> value) => value = new VBuffer<T>(parsed.Length, (T[])parsed.Clone()));
        return builder.ToAnnotations();
    }

    private static T Parse<T>(string text) => (T)(object)(typeof(T) == typeof(ReadOnlyMemory<char>) ? text.AsMemory()
        : typeof(T) == typeof(bool) ? bool.Parse(text)
        : Convert.ChangeType(text, typeof(T), CultureInfo.InvariantCulture));
}
