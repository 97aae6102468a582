using Microsoft.ML.Data;

namespace Invertible.ML.Persistence;

/// <summary>
/// Makes <c>mlContext.Model.ConvertToOnnx</c> fail loudly on a pipeline holding our transformers instead of writing a
/// wrong graph.
/// </summary>
/// <remarks>
/// ConvertToOnnx walks back from a pipeline's output through ML.NET's own data views and takes the first other view as
/// the data source, declaring each of its columns a graph input: it would export the steps after ours as if our
/// outputs were the model's inputs, with a warning only. So our data views carry one more column, of this type, which
/// ONNX cannot represent — declaring it fails the conversion — and <c>Transform</c> drops it with ML.NET's own
/// DropColumns, so users never see it. The supported export is <c>mlContext.Model.ExportInvertibleOnnx</c>.
/// </remarks>
internal sealed class ConvertToOnnxSentinel : PrimitiveDataViewType
{
    /// <summary>The column's name.</summary>
    public const string ColumnName = "__invertible_not_exportable_by_ConvertToOnnx";

    public static readonly ConvertToOnnxSentinel Instance = new();

    private ConvertToOnnxSentinel() : base(typeof(UseMlContextModelExportInvertibleOnnxInstead)) { }

    public override bool Equals(DataViewType? other) => other is ConvertToOnnxSentinel;

    public override bool Equals(object? other) => other is ConvertToOnnxSentinel;

    public override int GetHashCode() => typeof(ConvertToOnnxSentinel).GetHashCode();

    public override string ToString() => "Invertible.ML transformer (export the pipeline with mlContext.Model.ExportInvertibleOnnx, not ConvertToOnnx)";

    /// <summary>The column's (empty) value.</summary>
    public readonly struct UseMlContextModelExportInvertibleOnnxInstead;
}
