using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Tests.Support;

/// <summary>Data views for ML.NET tests: rows of a known-size "Features" vector, optionally with a label.</summary>
internal static class MlData
{
    public sealed class Row
    {
        public float[] Features { get; set; } = [];
    }

    public sealed class LabelledRow
    {
        public float[] Features { get; set; } = [];
        public string Label { get; set; } = "";
    }

    public static IDataView From(MLContext context, Tensor rows, string column = "Features")
    {
        var width = (int)rows.shape[1];
        var values = rows.shape[0] == 0 ? [] : rows.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var list = Enumerable.Range(0, (int)rows.shape[0]).Select(i => new Row { Features = values[(i * width)..((i + 1) * width)] }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[0].ColumnName = column;
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return context.Data.LoadFromEnumerable(list, schema);
    }

    public static IDataView From(MLContext context, Tensor rows, IReadOnlyList<string> labels)
    {
        var width = (int)rows.shape[1];
        var values = rows.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var list = Enumerable.Range(0, (int)rows.shape[0]).Select(i => new LabelledRow { Features = values[(i * width)..((i + 1) * width)], Label = labels[i] }).ToList();
        var schema = SchemaDefinition.Create(typeof(LabelledRow));
        schema[nameof(LabelledRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return context.Data.LoadFromEnumerable(list, schema);
    }

    /// <summary>A float-vector column as a [rows, width] tensor.</summary>
    public static Tensor Column(IDataView view, string column)
    {
        var rows = view.GetColumn<float[]>(column).ToArray();
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);
    }

    /// <summary>A Single column as a [rows] tensor.</summary>
    public static Tensor Scalars(IDataView view, string column) => tensor(view.GetColumn<float>(column).ToArray());
}
