using Invertible.ML.Mapping;
using Invertible.Torch.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
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

    public static ITransformer Build(BatchedTransformer transformer)
    {
        var form = transformer.Persist();
        var graph = OnnxRowGraph.Adapt(form.Graph, form.GraphInput, RowInput, form.Outputs);
        graph.MetadataProps.Add(new StringStringEntryProto { Key = CheckpointKey, Value = Convert.ToBase64String(form.Checkpoint) });
        graph.MetadataProps.Add(new StringStringEntryProto { Key = DescriptionKey, Value = form.Description.ToJsonString() });

        var context = new MLContext();
        IEstimator<ITransformer> pipeline = context.Transforms.CopyColumns(RowInput, transformer.InputColumnName)
            .Append(context.Transforms.ApplyOnnxModel(form.Outputs.Values.ToArray(), [RowInput], new MemoryStream(graph.ToBytes())));
        if (form.After is { } after)
            pipeline = pipeline.Append(after(context));
        pipeline = pipeline.Append(context.Transforms.DropColumns([RowInput, .. form.Temporary ?? []]));
        return pipeline.Fit(EmptyInput(context, transformer.InputColumnName, transformer.InputWidth));
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
