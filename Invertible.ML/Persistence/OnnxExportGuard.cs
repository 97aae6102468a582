using Invertible.ML.Mapping;
using Invertible.Torch.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Onnx;

namespace Invertible.ML.Persistence;

/// <summary>
/// Makes <c>mlContext.Model.ConvertToOnnx</c> fail loudly on a pipeline holding our transformers instead of writing a
/// wrong graph.
/// </summary>
/// <remarks>
/// ConvertToOnnx walks back from a pipeline's output through ML.NET's own data views and treats any other view as the
/// data source, so it would export the steps after ours as if our outputs were the model's inputs — and report success.
/// It does stop with an error at ML.NET's ONNX-scoring transform, which cannot export itself. So <see cref="Protect"/>
/// appends one (an Identity graph on one of our columns) followed by dropping its output column: nobody ever reads that
/// column, so ONNX Runtime never runs and the output is unchanged, but the walk back hits it and throws. The supported
/// export of such pipelines is <c>mlContext.Model.ExportInvertibleOnnx</c>.
/// </remarks>
internal sealed class OnnxExportGuard
{
    private const string GuardColumn = "__invertible_convert_to_onnx_guard";
    private readonly ITransformer guard;

    public OnnxExportGuard(BatchedTransformer transformer)
    {
        var watched = transformer.Function.Columns.First(c => c.Kind is OutputKind.FloatVector or OutputKind.Float);
        var context = new MLContext();
        var g = new OnnxGraphBuilder("convert_to_onnx_guard", OnnxExportOptions.Defaults.Opset);
        long?[] shape = watched.Kind == OutputKind.FloatVector ? [watched.Width] : [null, 1];
        g.Output(GuardColumn, g.Node("Identity", [g.Input(watched.Name, shape)]), TensorProto.Types.DataType.Float, shape);
        var model = new ModelProto { IrVersion = 8, Graph = g.Build() };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxExportOptions.Defaults.Opset });
        var data = watched.Kind == OutputKind.FloatVector
            ? OnnxPersistence.EmptyInput(context, watched.Name, watched.Width)
            : context.Data.LoadFromEnumerable(Array.Empty<ScalarRow>(), Scalar(watched.Name));
        guard = context.Transforms.ApplyOnnxModel([GuardColumn], [watched.Name], new MemoryStream(model.ToBytes()))
            .Append(context.Transforms.DropColumns(GuardColumn))
            .Fit(data);
    }

    public IDataView Protect(IDataView view) => guard.Transform(view);

    private static SchemaDefinition Scalar(string name)
    {
        var schema = SchemaDefinition.Create(typeof(ScalarRow));
        schema[0].ColumnName = name;
        return schema;
    }

    private sealed class ScalarRow
    {
        public float Value { get; set; }
    }
}
