using System.Collections.Immutable;
using Invertible.ML.Persistence;
using Invertible.ML.Mapping;
using Invertible.Torch.Core;
using Invertible.Torch.Onnx;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML;
using Onnx;

namespace Invertible.ML.Pipelines;

/// <summary>
/// Exports a fitted pipeline holding Invertible.ML transformers as one ONNX graph — what <c>ConvertToOnnx</c> cannot do
/// for them. Supported steps: affine normalizers written in place (NormalizeMeanVariance, NormalizeMinMax, …) and every
/// Invertible.ML transformer; any other step fails with its name. Graph inputs are the input columns the steps read
/// ([batch, d] float), graph outputs every column the Invertible.ML transformers add, named after the columns.
/// </summary>
internal static class PipelineExporter
{
    public static ModelProto Export(ITransformer pipeline, DataViewSchema inputSchema, OnnxExportOptions? options)
    {
        options ??= new OnnxExportOptions();
        options.Validate();
        var builder = new OnnxGraphBuilder("invertible_pipeline", options.Opset);
        var graph = builder.Build();
        var values = new Dictionary<string, string>();
        var outputs = new Dictionary<string, (string Value, ValueInfoProto Info)>();
        var metadata = new Dictionary<string, string>();
        var schema = inputSchema;

        string Value(string column)
        {
            if (values.TryGetValue(column, out var value))
                return value;
            var width = Data.FeatureColumn.Width(schema, column, role: "input");
            return values[column] = builder.Input(column, width);
        }

        var index = 0;
        foreach (var step in Flatten(pipeline))
        {
            switch (step)
            {
                case BatchedTransformer ours:
                    var form = ours.Persist();
                    var produced = OnnxComposition.Append(graph, form.Graph, $"step{index}_", new Dictionary<string, string> { [form.GraphInput] = Value(ours.InputColumnName) });
                    foreach (var (name, column) in form.Outputs)
                    {
                        var target = column.StartsWith("__invertible", StringComparison.Ordinal) ? InvertiblePredictionName : column;
                        values[target] = produced[name];
                        outputs[target] = (produced[name], form.Graph.Graph.Output.Single(o => o.Name == name));
                    }
                    if (form.Description["keys"]?["values"] is { } keys)
                        metadata[$"invertible.key_values.{InvertiblePredictionName}"] = keys.ToJsonString();
                    break;
                case NormalizingTransformer normalizer:
                    Normalize(builder, normalizer, schema, values, Value);
                    break;
                default:
                    throw new NotSupportedException($"Step {index} of the pipeline is a {step.GetType().Name}, which ExportInvertibleOnnx cannot export. " +
                        "It exports affine normalizers written in place and Invertible.ML transformers; export other steps with ConvertToOnnx and chain the graphs by column name.");
            }
            schema = step.GetOutputSchema(schema);
            index++;
        }
        if (outputs.Count == 0)
            throw new ArgumentException("The pipeline holds no Invertible.ML transformer; use mlContext.Model.ConvertToOnnx.", nameof(pipeline));
        foreach (var (column, (value, info)) in outputs)
        {
            var type = (TensorProto.Types.DataType)info.Type.TensorType.ElemType;
            var shape = info.Type.TensorType.Shape.Dim.Select(d => d.DimValue > 0 ? d.DimValue : (long?)null).ToArray();
            builder.Output(column, value, type, shape);
        }
        metadata["output.PredictedLabel"] = "multiclass: the predicted class as a 0-based index into the label's key values (see invertible.key_values.PredictedLabel)";
        var model = new ModelProto { IrVersion = 8, ProducerName = "Invertible.ML", Domain = "ml.invertible", ModelVersion = 1, Graph = graph, DocString = "Invertible.ML pipeline" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        foreach (var (key, value) in metadata)
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    private const string InvertiblePredictionName = "PredictedLabel";

    /// <summary>y = (x − offset) ⊙ scale for each column the normalizer writes; in place only (its input columns are
    /// not public, so in place is how they are matched).</summary>
    private static void Normalize(OnnxGraphBuilder builder, NormalizingTransformer normalizer, DataViewSchema schema,
        Dictionary<string, string> values, Func<string, string> value)
    {
        var output = normalizer.GetOutputSchema(schema);
        var written = Enumerable.Range(schema.Count, output.Count - schema.Count).Select(i => output[i]).ToList();
        for (var i = 0; i < written.Count; i++)
        {
            var column = written[i].Name;
            if (schema.GetColumnOrNull(column) is null)
                throw new NotSupportedException($"The normalizer writes column '{column}' from another column; ExportInvertibleOnnx supports normalizers written in place (e.g. NormalizeMeanVariance(\"{column}\")).");
            if (normalizer.GetNormalizerModelParameters(i) is not NormalizingTransformer.AffineNormalizerModelParameters<ImmutableArray<float>> affine)
                throw new NotSupportedException($"The normalizer of column '{column}' is not affine; ExportInvertibleOnnx supports mean-variance, min-max and other affine normalizers.");
            var input = value(column);
            var shifted = affine.Offset.IsDefaultOrEmpty ? input : builder.Node("Sub", [input, builder.Initializer($"{column}_offset", TorchSharp.torch.tensor(affine.Offset.ToArray()))]);
            values[column] = builder.Node("Mul", [shifted, builder.Initializer($"{column}_scale", TorchSharp.torch.tensor(affine.Scale.ToArray()))]);
        }
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer transformer)
        => transformer is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [transformer];
}
