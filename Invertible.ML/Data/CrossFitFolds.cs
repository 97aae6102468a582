using System.Globalization;
using Invertible.Torch.Core;

namespace Invertible.ML.Data;

/// <summary>
/// The fold of every row for cross-fitting: with K ≥ 2 members, each class's rows (all rows for regression) ranked by a
/// seeded hash of the row index are dealt to folds 0…K − 1 in turn, so every fold holds each class in proportion; with
/// one member, the first share of each class's ranked rows is fold 0 (validation) and the rest fold 1 (training only).
/// </summary>
internal sealed class CrossFitFolds
{
    private readonly byte[] folds;

    private CrossFitFolds(byte[] folds, int members) => (this.folds, Members) = (folds, members);

    /// <summary>Members: folds 0…Members − 1 each validate one member; a fold ≥ Members validates none.</summary>
    public int Members { get; }

    /// <summary>Rows.</summary>
    public long Rows => folds.LongLength;

    /// <summary>The fold of row <paramref name="row"/>.</summary>
    public int Of(long row) => folds[row];

    /// <summary>Whether row <paramref name="row"/> validates a member.</summary>
    public bool IsValidated(long row) => folds[row] < Members;

    /// <summary>Rows validated by each member.</summary>
    public long[] ValidatedRows() => [.. Enumerable.Range(0, Members).Select(k => folds.LongCount(f => f == k))];

    /// <summary>Deals the rows to folds.</summary>
    /// <param name="groups">Per row, its class index; null for regression (one group).</param>
    /// <param name="rows">Rows of the data.</param>
    /// <param name="members">K ≥ 1.</param>
    /// <param name="validationFraction">With one member, the share of each group held out for validation.</param>
    /// <param name="seed">Seed of the hash.</param>
    public static CrossFitFolds Deal(int[]? groups, long rows, int members, double validationFraction, int seed)
    {
        if (members is < 1 or > 255) throw new ArgumentOutOfRangeException(nameof(members), members, "Must lie in 1…255.");
        if (members == 1 && !(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "A single member needs a validation share in (0, 1).");
        var folds = new byte[rows];
        var byGroup = new Dictionary<int, List<long>>();
        for (long row = 0; row < rows; row++)
        {
            var group = groups?[row] ?? 0;
            if (!byGroup.TryGetValue(group, out var list))
                byGroup[group] = list = [];
            list.Add(row);
        }
        // Each group continues the deal where the previous one ended, so that small groups do not all start in fold 0.
        long dealt = 0;
        foreach (var (_, list) in byGroup.OrderBy(g => g.Key))
        {
            list.Sort((a, b) => Hash(seed, a).CompareTo(Hash(seed, b)));
            var validation = (int)Math.Round(validationFraction * list.Count, MidpointRounding.ToEven);
            for (var i = 0; i < list.Count; i++)
                folds[list[i]] = members == 1 ? (byte)(i < validation ? 0 : 1) : (byte)((dealt + i) % members);
            dealt += list.Count;
        }
        if (rows < 2 * members)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{rows} rows are too few for {members} cross-fitted members (at least {2 * members})."), nameof(rows));
        return new CrossFitFolds(folds, members);
    }

    /// <summary>splitmix64 of (seed, row): independent, reproducible ranks.</summary>
    private static ulong Hash(int seed, long row)
    {
        unchecked
        {
            var z = (ulong)row * 0x9E3779B97F4A7C15UL + (ulong)(uint)seed * 0xD1B54A32D192ED03UL + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
