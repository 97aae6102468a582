using Invertible.Samples.Shared;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.Samples.MlNetResults;

/// <summary>The digits as ML.NET data: "Features" (64 pixels, times <c>scale</c>) and "Label" (the digit as text).</summary>
internal static class DigitsData
{
    public sealed class Row
    {
        [VectorType(Digits.Features)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";

        /// <summary>1 for an anomaly, 0 for a normal row (anomaly detection's label).</summary>
        public float IsAnomaly { get; set; }
    }

    public static IDataView View(MLContext context, Digits digits, Func<int, bool>? anomaly = null, float scale = 1)
        => context.Data.LoadFromEnumerable(digits.Pixels.Select((p, i) => new Row
        {
            Features = p.Select(v => v * scale).ToArray(), Label = digits.Labels[i].ToString(System.Globalization.CultureInfo.InvariantCulture),
            IsAnomaly = anomaly?.Invoke(digits.Labels[i]) == true ? 1 : 0,
        }).ToList());

    public static Digits Where(Digits digits, Func<int, bool> keep)
    {
        var rows = Enumerable.Range(0, digits.Labels.Length).Where(i => keep(digits.Labels[i])).ToArray();
        return new Digits(rows.Select(i => digits.Pixels[i]).ToArray(), rows.Select(i => digits.Labels[i]).ToArray());
    }

    public static Digits Concat(Digits a, Digits b) => new([.. a.Pixels, .. b.Pixels], [.. a.Labels, .. b.Labels]);
}
