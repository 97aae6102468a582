using Invertible.ML.Data;
using Invertible.ML.Persistence;
using Microsoft.ML.Data;
using Microsoft.ML;

namespace Invertible.ML.Mapping;

/// <summary>
/// The lazy output of a batched transformer: the input's columns plus the computed ones, evaluated a batch of rows at a
/// time when a computed column is read.
/// </summary>
/// <remarks>
/// A cursor runs two cursors over the input in step: one for the columns passed through (so their values always belong
/// to the current row) and one that reads the feature column a batch ahead. Rows that no one reads a computed column of
/// still cost nothing when no computed column is active.
/// </remarks>
internal sealed class BatchedDataView : IDataView
{
    private readonly IDataView input;
    private readonly IBatchFunction function;
    private readonly string featureColumn;
    private readonly int batchSize;

    public BatchedDataView(IDataView input, IBatchFunction function, string featureColumn, DataViewSchema schema, int batchSize)
    {
        (this.input, this.function, this.featureColumn, this.batchSize) = (input, function, featureColumn, batchSize);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(schema);
        builder.AddColumn(ConvertToOnnxSentinel.ColumnName, ConvertToOnnxSentinel.Instance);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        var passed = input.Schema.Where(c => needed.Contains(c.Index)).ToList();
        var computed = needed.Any(i => i >= input.Schema.Count && i < Schema.Count - 1);
        var lookahead = computed ? input.GetRowCursor([input.Schema[featureColumn]]) : null;
        return new Cursor(this, input.GetRowCursor(passed), lookahead, needed);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly BatchedDataView view;
        private readonly DataViewRowCursor main;
        private readonly DataViewRowCursor? lookahead;
        private readonly FeatureRows? features;
        private readonly HashSet<int> active;
        private readonly float[] buffer;
        private readonly Delegate?[] getters;
        private object[] values = [];
        private long batchStart, batchEnd;

        public Cursor(BatchedDataView view, DataViewRowCursor main, DataViewRowCursor? lookahead, HashSet<int> active)
        {
            (this.view, this.main, this.lookahead, this.active) = (view, main, lookahead, active);
            var width = view.function.InputWidth;
            buffer = lookahead is null ? [] : new float[view.batchSize * width];
            features = lookahead is null ? null : new FeatureRows(lookahead, view.featureColumn, width);
            getters = new Delegate?[view.function.Columns.Count];
        }

        public override long Position => main.Position;

        public override long Batch => main.Batch;

        public override DataViewSchema Schema => view.Schema;

        public override bool MoveNext() => main.MoveNext();

        public override ValueGetter<DataViewRowId> GetIdGetter() => main.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var inputCount = view.input.Schema.Count;
            if (column.Index < inputCount)
                return main.GetGetter<TValue>(view.input.Schema[column.Index]);
            if (column.Index == view.Schema.Count - 1)
                return (ValueGetter<TValue>)(Delegate)(ValueGetter<ConvertToOnnxSentinel.UseMlContextModelExportInvertibleOnnxInstead>)((ref ConvertToOnnxSentinel.UseMlContextModelExportInvertibleOnnxInstead value) => value = default);
            if (lookahead is null || !active.Contains(column.Index))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested from this cursor.");
            var index = column.Index - inputCount;
            var getter = getters[index] ??= view.function.Columns[index].Getter(Current, index);
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        /// <summary>The batch holding the current row, computed first if the cursor has moved past the last one.</summary>
        private (object[] Values, int Row) Current()
        {
            var position = main.Position;
            while (position >= batchEnd)
                NextBatch();
            return (values, (int)(position - batchStart));
        }

        private void NextBatch()
        {
            var width = view.function.InputWidth;
            var rows = 0;
            while (rows < view.batchSize && lookahead!.MoveNext())
            {
                features!.Read(buffer.AsSpan(rows * width, width), batchEnd + rows);
                rows++;
            }
            if (rows == 0)
                throw new InvalidOperationException("The input produced fewer rows for the feature column than for the other columns.");
            values = view.function.Compute(buffer.AsSpan(0, rows * width), rows);
            (batchStart, batchEnd) = (batchEnd, batchEnd + rows);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                main.Dispose();
                lookahead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
