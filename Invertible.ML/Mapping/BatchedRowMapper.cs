using Invertible.ML.Data;
using Invertible.Torch.Core;
using Microsoft.ML.Data;
using Microsoft.ML;

namespace Invertible.ML.Mapping;

/// <summary>
/// Row-by-row evaluation of a batched transformer (what <c>CreatePredictionEngine</c> uses): a batch of one, computed
/// only when a computed column is read, and again only when the row's features change (a prediction engine reuses one
/// input row for every example, so its position alone cannot tell rows apart). Each engine gets its own rows, so engines on several
/// threads share nothing but the (read-only) model.
/// </summary>
internal sealed class BatchedRowMapper : IRowToRowMapper
{
    private readonly IBatchFunction function;
    private readonly string featureColumn;

    public BatchedRowMapper(DataViewSchema inputSchema, DataViewSchema outputSchema, IBatchFunction function, string featureColumn)
        => (InputSchema, OutputSchema, this.function, this.featureColumn) = (inputSchema, outputSchema, function, featureColumn);

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var columns = dependingColumns.ToList();
        var needed = columns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]).ToList();
        if (columns.Any(c => c.Index >= InputSchema.Count))
            needed.Add(InputSchema[featureColumn]);
        return needed.DistinctBy(c => c.Index);
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        => new Row(this, input, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class Row : DataViewRow
    {
        private readonly BatchedRowMapper mapper;
        private readonly DataViewRow input;
        private readonly HashSet<int> active;
        private readonly Delegate?[] getters;
        private readonly float[] buffer, computedFor;
        private FeatureRows? features;
        private object[]? values;

        public Row(BatchedRowMapper mapper, DataViewRow input, HashSet<int> active)
        {
            (this.mapper, this.input, this.active) = (mapper, input, active);
            getters = new Delegate?[mapper.function.Columns.Count];
            buffer = new float[mapper.function.InputWidth];
            computedFor = new float[mapper.function.InputWidth];
        }

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override DataViewSchema Schema => mapper.OutputSchema;

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column)
            => column.Index < mapper.InputSchema.Count ? input.IsColumnActive(input.Schema[column.Index]) : active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < mapper.InputSchema.Count)
                return input.GetGetter<TValue>(input.Schema[column.Index]);
            var index = column.Index - mapper.InputSchema.Count;
            var getter = getters[index] ??= mapper.function.Columns[index].Getter(Current, index);
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        private (object[] Values, int Row) Current()
        {
            features ??= new FeatureRows(input, mapper.featureColumn, mapper.function.InputWidth);
            features.Read(buffer, input.Position);
            if (values is null || !buffer.AsSpan().SequenceEqual(computedFor))
            {
                values = mapper.function.Compute(buffer, 1);
                buffer.CopyTo(computedFor, 0);
            }
            return (values, 0);
        }
    }
}
