using Invertible.ML.Mapping;
using Invertible.Torch.Core;
using Invertible.Torch;
using Microsoft.ML;
using static TorchSharp.torch;

namespace Invertible.ML.Data;

/// <summary>
/// One streaming pass over a feature column: the number, mean and covariance of the rows in each part of a
/// <see cref="RowSplit"/> (float64, accumulated a block of rows at a time). The pass also rejects rows with NaN or ±∞
/// before any training starts.
/// </summary>
internal sealed class DataStatistics
{
    private const int BlockRows = 4096;

    private DataStatistics(Moments training, Moments validation) => (Training, Validation) = (training, validation);

    /// <summary>The training part.</summary>
    public Moments Training { get; }

    /// <summary>The validation part.</summary>
    public Moments Validation { get; }

    public long TrainingRows => Training.Rows;

    public long ValidationRows => Validation.Rows;

    public static DataStatistics Compute(IDataView data, string featureColumn, int width, RowSplit split)
    {
        using var cursor = data.GetRowCursor([data.Schema[featureColumn]]);
        var features = new FeatureRows(cursor, featureColumn, width);
        var (training, validation) = (new Moments(width), new Moments(width));
        long index = -1;
        while (cursor.MoveNext())
        {
            index++;
            var part = split.IsValidation(index) ? validation : training;
            features.Read(part.Next(), index);
        }
        training.Flush();
        validation.Flush();
        return new DataStatistics(training, validation);
    }

    /// <summary>Count, mean and (maximum-likelihood) covariance of a set of rows.</summary>
    public sealed class Moments
    {
        private readonly int width;
        private readonly float[] block;
        private readonly Tensor sum, products;
        private int filled;

        internal Moments(int width)
        {
            this.width = width;
            block = new float[BlockRows * width];
            sum = zeros(width, dtype: ScalarType.Float64);
            products = zeros(width, width, dtype: ScalarType.Float64);
        }

        public long Rows { get; private set; }

        /// <summary>The smallest value of any feature (+∞ without rows).</summary>
        public double Minimum { get; private set; } = double.PositiveInfinity;

        /// <summary>The largest value of any feature (−∞ without rows).</summary>
        public double Maximum { get; private set; } = double.NegativeInfinity;

        /// <summary>μ (float64, [d]).</summary>
        public Tensor Mean => sum.Div(Math.Max(Rows, 1));

        /// <summary>E[(x − μ)(x − μ)ᵀ] (float64, [d, d]).</summary>
        public Tensor Covariance => SecondMomentAbout(Mean);

        /// <summary>E[(x − c)(x − c)ᵀ] about a point c.</summary>
        public Tensor SecondMomentAbout(Tensor centre)
        {
            var mean = Mean;
            var shift = mean.sub(centre);
            return products.Div(Math.Max(Rows, 1)).sub(mean.outer(mean)).Add(shift.outer(shift));
        }

        internal Span<float> Next()
        {
            if (filled == BlockRows)
                Flush();
            Rows++;
            return block.AsSpan(filled++ * width, width);
        }

        internal void Flush()
        {
            if (filled == 0)
                return;
            using var scope = NewDisposeScope();
            var rows = TensorRows.From(block.AsSpan(0, filled * width), filled, CPU).to(ScalarType.Float64);
            sum.AddInPlace(rows.sum(dim: 0));
            (Minimum, Maximum) = (Math.Min(Minimum, rows.min().ReadDouble()), Math.Max(Maximum, rows.max().ReadDouble()));
            products.AddInPlace(rows.t().mm(rows));
            filled = 0;
        }
    }
}
