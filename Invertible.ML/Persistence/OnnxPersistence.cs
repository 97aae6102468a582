using Invertible.ML.Data;
using Invertible.Torch.Core;
using Invertible.Torch.Onnx;
using Microsoft.ML.Data;
using Microsoft.ML;
using Onnx;

namespace Invertible.ML.Persistence;

/// <summary>
/// Builds the ML.NET transformer that stands in for one of ours in a saved model: CopyColumns (input → a private
/// name) → ApplyOnnxModel (our exported graph in row form) → optional ML.NET steps → DropColumns. A plain
/// <c>mlContext.Model.Load</c> gets exactly that chain back and scores with ONNX Runtime alone; the graph's metadata also
/// carries the checkpoint and the description from which <c>LoadInvertible</c> rebuilds the original transformer.
/// </summary>
internal static class OnnxPersistence
{
    /// <summary>Metadata key of the checkpoint (base64).</summary>
    public const string CheckpointKey = "invertible.checkpoint";

    /// <summary>Metadata key of the transformer's description (JSON).</summary>
    public const string DescriptionKey = "invertible.transformer";

    /// <summary>The private name the saved chain copies the input column to.</summary>
    public const string RowInput = "__invertible_input";

    /// <summary>The stand-in for a transformer that reads the float vector column <paramref name="inputColumn"/> of
    /// <paramref name="inputWidth"/> values, adds <paramref name="columns"/> and persists as <paramref name="form"/>.</summary>
    public static ITransformer Build(PersistedForm form, string inputColumn, int inputWidth, IReadOnlyList<OutputColumn> columns)
    {
        // Each column's values keep the transformer's element type (e.g. Int32 iterations where the graph computes Int64).
        var elementTypes = columns.Where(c => c.Kind != OutputKind.Key).ToDictionary(c => c.Name, c => c.Kind switch
        {
            OutputKind.Boolean => (int)TensorProto.Types.DataType.Bool,
            OutputKind.Int32 => (int)TensorProto.Types.DataType.Int32,
            _ => (int)TensorProto.Types.DataType.Float,
        });
        var graph = OnnxRowGraph.Adapt(form.Graph, form.GraphInput, RowInput, form.Outputs, elementTypes);
        graph.MetadataProps.Add(new StringStringEntryProto { Key = CheckpointKey, Value = Convert.ToBase64String(form.Checkpoint) });
        graph.MetadataProps.Add(new StringStringEntryProto { Key = DescriptionKey, Value = form.Description.ToJsonString() });

        var context = new MLContext();
        var steps = new List<IEstimator<ITransformer>>
        {
            context.Transforms.CopyColumns(RowInput, inputColumn),
            context.Transforms.ApplyOnnxModel(form.Outputs.Values.ToArray(), [RowInput], new MemoryStream(graph.ToBytes())),
        };
        if (form.After is { } after)
            steps.Add(after(context));
        steps.Add(context.Transforms.DropColumns([RowInput, .. form.Temporary ?? []]));
        // Fitted one by one into a flat chain, so the graph always sits at index 1 (what the loader expects).
        var data = EmptyInput(context, inputColumn, inputWidth);
        var fitted = new List<ITransformer>();
        foreach (var step in steps)
        {
            var fit = step.Fit(data);
            fitted.Add(fit);
            data = fit.Transform(data);
        }
        return new TransformerChain<ITransformer>([.. fitted]);
    }

    /// <summary>A data view with no rows and one known-size float-vector column: enough to fit schema-only estimators.</summary>
    public static IDataView EmptyInput(MLContext context, string column, int width)
    {
        var schema = SchemaDefinition.Create(typeof(VectorRow));
        schema[0].ColumnName = column;
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return context.Data.LoadFromEnumerable(Array.Empty<VectorRow>(), schema);
    }

    private sealed class VectorRow
    {
        public float[] Values { get; set; } = [];
    }
}
