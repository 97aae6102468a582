using Invertible.ML.Mapping;
using Microsoft.ML;
using static TorchSharp.torch;

namespace Invertible.ML.Data;

/// <summary>
/// One streaming pass over a feature column: the number of rows in each part of a <see cref="RowSplit"/>, and the mean
/// and covariance of the training part (float64, accumulated a block of rows at a time). The pass also rejects rows with
/// NaN or ±∞ before any training starts.
/// </summary>
internal sealed record DataStatistics(long TrainingRows, long ValidationRows, Tensor Mean, Tensor Covariance)
{
    private const int BlockRows = 4096;

    public static DataStatistics Compute(IDataView data, string featureColumn, int width, RowSplit split)
    {
        using var cursor = data.GetRowCursor([data.Schema[featureColumn]]);
        var features = new FeatureRows(cursor, featureColumn, width);
        var block = new float[BlockRows * width];
        var scratch = new float[width];
        var sum = zeros(width, dtype: ScalarType.Float64);
        var products = zeros(width, width, dtype: ScalarType.Float64);
        long training = 0, validation = 0, index = -1;
        var filled = 0;

        void Accumulate()
        {
            using var scope = NewDisposeScope();
            var rows = tensor(block.AsSpan(0, filled * width).ToArray(), [filled, width]).to(ScalarType.Float64);
            sum.add_(rows.sum(dim: 0));
            products.add_(rows.t().mm(rows));
            filled = 0;
        }

        while (cursor.MoveNext())
        {
            index++;
            var held = split.IsValidation(index);
            features.Read(held ? scratch : block.AsSpan(filled * width, width), index);
            if (held)
            {
                validation++;
                continue;
            }
            training++;
            if (++filled == BlockRows)
                Accumulate();
        }
        if (filled > 0)
            Accumulate();
        if (training == 0)
            return new DataStatistics(0, validation, sum, products);
        // Centred about the mean in float64; the data were standardised upstream or are of modest scale.
        var mean = sum.div(training);
        var covariance = products.div(training).sub(mean.outer(mean));
        return new DataStatistics(training, validation, mean, covariance);
    }
}
