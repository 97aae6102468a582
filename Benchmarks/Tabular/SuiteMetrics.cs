namespace Invertible.Benchmarks.Tabular;

/// <summary>The suite's metrics, computed as the scikit-learn peers compute them.</summary>
public static class SuiteMetrics
{
    /// <summary>The metric's name for a group: accuracy, R² or AUROC.</summary>
    public static string NameOf(SuiteGroup group) => group switch
    {
        SuiteGroup.Regression => "R2",
        SuiteGroup.Anomaly => "AUROC",
        _ => "accuracy",
    };

    /// <summary>The metric of <paramref name="predicted"/> on the held-out rows <paramref name="test"/>.</summary>
    public static double Of(SuiteGroup group, SuiteDataSet data, int[] test, double[] predicted)
    {
        if (predicted.Length != test.Length)
            throw new InvalidOperationException($"{predicted.Length} predictions for {test.Length} held-out rows.");
        return group switch
        {
            SuiteGroup.Multiclass => test.Select((r, i) => predicted[i] == IndexOf(data, r) ? 1.0 : 0.0).Average(),
            SuiteGroup.Binary => test.Select((r, i) => predicted[i] == (data.Labels[r] == data.Classes[1] ? 1 : 0) ? 1.0 : 0.0).Average(),
            SuiteGroup.Regression => RSquared(test.Select(data.Target).Select(t => (double)t).ToArray(), predicted),
            _ => Auroc(predicted, test.Select(data.IsAnomaly).ToArray()),
        };
    }

    /// <summary>1 − Σ(y − ŷ)² / Σ(y − ȳ)², with ȳ the held-out rows' mean.</summary>
    public static double RSquared(double[] truth, double[] predicted)
    {
        var mean = truth.Average();
        var residual = truth.Select((t, i) => (t - predicted[i]) * (t - predicted[i])).Sum();
        var total = truth.Sum(t => (t - mean) * (t - mean));
        return 1 - residual / total;
    }

    /// <summary>
    /// The area under the ROC curve of <paramref name="score"/> (higher = more anomalous) against <paramref name="positive"/>:
    /// the Mann–Whitney statistic with tied scores given their average rank. NaN scores make it NaN.
    /// </summary>
    public static double Auroc(double[] score, bool[] positive)
    {
        if (score.Any(double.IsNaN))
            return double.NaN;
        var order = Enumerable.Range(0, score.Length).OrderBy(i => score[i]).ToArray();
        var ranks = new double[score.Length];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && score[order[end + 1]] == score[order[start]])
                end++;
            for (var k = start; k <= end; k++)
                ranks[order[k]] = (start + end) / 2.0 + 1;
            start = end + 1;
        }
        double positives = positive.Count(p => p), negatives = positive.Length - positives;
        var rankSum = ranks.Where((_, i) => positive[i]).Sum();
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }

    private static int IndexOf(SuiteDataSet data, int row)
    {
        for (var i = 0; i < data.Classes.Count; i++)
            if (data.Classes[i] == data.Labels[row])
                return i;
        return -1;
    }
}
