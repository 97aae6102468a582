using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.Cli;

/// <summary>CSV tables as ML.NET data views: a "Features" vector of the chosen columns and, when asked, a "Label".</summary>
internal static class CliData
{
    public sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
    }

    public sealed class TextLabelRow
    {
        public float[] Features { get; set; } = [];
        public string Label { get; set; } = "";
    }

    public sealed class ValueLabelRow
    {
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    /// <summary>Feature columns: <paramref name="features"/> if given (comma-separated), else every column but the label.</summary>
    public static int[] FeatureColumns(CsvTable table, string? features, string? label)
    {
        var columns = features is not null
            ? features.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(table.IndexOf).ToArray()
            : Enumerable.Range(0, table.Header.Length).Where(i => table.Header[i] != label).ToArray();
        return columns.Length > 0 ? columns : throw new CliException($"{table.Path}: no feature columns left (label '{label}').");
    }

    public static IDataView Features(MLContext context, float[][] rows)
        => context.Data.LoadFromEnumerable(rows.Select(r => new FeatureRow { Features = r }), Schema<FeatureRow>(rows[0].Length));

    public static IDataView WithTextLabel(MLContext context, float[][] rows, IReadOnlyList<string> labels)
        => context.Data.LoadFromEnumerable(rows.Select((r, i) => new TextLabelRow { Features = r, Label = labels[i] }), Schema<TextLabelRow>(rows[0].Length));

    public static IDataView WithValueLabel(MLContext context, float[][] rows, IReadOnlyList<float> labels)
        => context.Data.LoadFromEnumerable(rows.Select((r, i) => new ValueLabelRow { Features = r, Label = labels[i] }), Schema<ValueLabelRow>(rows[0].Length));

    private static SchemaDefinition Schema<T>(int width)
    {
        var schema = SchemaDefinition.Create(typeof(T));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }
}
