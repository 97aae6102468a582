namespace Invertible.Benchmarks.Tabular;

/// <summary>
/// The tabular suite's split rule (shared/docs/BENCHMARKS.md), implemented exactly as the scikit-learn peers' script
/// implements it, so that both hold out the same rows: within each group, rows sorted by
/// splitmix64(split · 1 000 003 + row); the first round(fraction · n) of the group (half to even) are held out.
/// </summary>
public static class SuiteSplit
{
    /// <summary>The splits every result is averaged over.</summary>
    public static readonly int[] Splits = [1, 2, 3, 4, 5];

    /// <summary>splitmix64's output for <paramref name="x"/> (all arithmetic modulo 2⁶⁴).</summary>
    public static ulong SplitMix64(ulong x)
    {
        unchecked
        {
            x += 0x9E3779B97F4A7C15UL;
            var z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>The held-out rows of split <paramref name="split"/> (1…5): a share <paramref name="fraction"/> of each group.</summary>
    /// <param name="groups">Row numbers (0-based, in file order) of each group: classes, or all rows, or the normal rows.</param>
    public static HashSet<int> HeldOut(IEnumerable<IReadOnlyList<int>> groups, int split, double fraction)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (split < 1) throw new ArgumentOutOfRangeException(nameof(split), split, "Splits are numbered from 1.");
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "Must lie in (0, 1).");
        var heldOut = new HashSet<int>();
        foreach (var rows in groups)
        {
            var take = (int)Math.Round(fraction * rows.Count, MidpointRounding.ToEven);
            heldOut.UnionWith(rows.OrderBy(row => SplitMix64(unchecked((ulong)split * 1_000_003UL + (ulong)row))).Take(take));
        }
        return heldOut;
    }
}
