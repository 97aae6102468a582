using Invertible.ML.Data;
using Invertible.ML.Persistence;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Invertible.ML.Mapping;

/// <summary>
/// What the product's transformers share: they read one float-vector column, add computed columns, evaluate the model a
/// batch of rows at a time in <see cref="Transform"/> and one row at a time in prediction engines, and save themselves
/// as ONNX (so that <c>mlContext.Model.Load</c> scores with ONNX Runtime alone, and
/// <c>mlContext.Model.LoadInvertible</c> restores them whole).
/// </summary>
public abstract class BatchedTransformer : ITransformer, IDisposable
{
    /// <summary>Rows evaluated together by <see cref="Transform"/>.</summary>
    public const int TransformBatchSize = 1024;

    private readonly Lazy<ITransformer> persisted;
    private readonly Lazy<ITransformer> dropSentinel;
    private bool disposed;

    private protected BatchedTransformer(IHostEnvironment environment, string inputColumnName)
    {
        Environment = environment ?? throw new ArgumentNullException(nameof(environment));
        InputColumnName = inputColumnName ?? throw new ArgumentNullException(nameof(inputColumnName));
        persisted = new Lazy<ITransformer>(() => OnnxPersistence.Build(Persist(), InputColumnName, InputWidth, Function.Columns));
        dropSentinel = new Lazy<ITransformer>(() => new MLContext().Transforms.DropColumns(ConvertToOnnxSentinel.ColumnName)
            .Fit(new BatchedDataView(OnnxPersistence.EmptyInput(new MLContext(), InputColumnName, InputWidth), Function, InputColumnName,
                GetOutputSchema(OnnxPersistence.EmptyInput(new MLContext(), InputColumnName, InputWidth).Schema), TransformBatchSize)));
    }

    /// <summary>The column the transformer reads.</summary>
    public string InputColumnName { get; }

    /// <summary>Values per row of <see cref="InputColumnName"/>.</summary>
    public int InputWidth => Function.InputWidth;

    private protected IHostEnvironment Environment { get; }

    /// <summary>The computation (and the columns it adds).</summary>
    internal abstract IBatchFunction Function { get; }

    /// <summary>What <see cref="OnnxPersistence"/> writes for this transformer: its forward graph, the ONNX names of its
    /// outputs and the description <c>LoadInvertible</c> rebuilds it from.</summary>
    internal abstract PersistedForm Persist();

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input column is missing, not a float vector, or of the wrong size.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        FeatureColumn.Width(inputSchema, InputColumnName, InputWidth, "input");
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var column in Function.Columns)
            builder.AddColumn(column.Name, column.Type, column.Annotations);
        return builder.ToSchema();
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ObjectDisposedException.ThrowIf(disposed, this);
        // ML.NET's DropColumns removes the sentinel column that keeps ConvertToOnnx from exporting a wrong graph.
        return dropSentinel.Value.Transform(new BatchedDataView(input, Function, InputColumnName, GetOutputSchema(input.Schema), TransformBatchSize));
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return new BatchedRowMapper(inputSchema, GetOutputSchema(inputSchema), Function, InputColumnName);
    }

    /// <summary>Saves the transformer as ONNX inside the ML.NET model (with its checkpoint in the graph's metadata).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)persisted.Value).Save(ctx);

    /// <summary>Releases the model's native memory.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        DisposeModel();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the model.</summary>
    private protected abstract void DisposeModel();
}
