namespace Invertible.Torch.Core;

/// <summary>
/// Keeps a long loop's resident set near its reference: when it has grown past <see cref="GrowthLimit"/> × the
/// reference, the C heap's free memory is returned to the system (<see cref="NativeMemory.TrimHeap"/>).
/// </summary>
/// <remarks>
/// The reference is the resident set at the first <see cref="Check"/>, raised to what remains after each trim, so
/// memory the loop really holds (optimiser state, a best-weights snapshot) costs one trim, not one per step. A check
/// costs one read of <c>/proc/self/statm</c>; a trim walks the heap's free lists and happens only on growth.
/// </remarks>
public sealed class NativeHeapTrimmer
{
    /// <summary>Default <see cref="GrowthLimit"/>.</summary>
    public const double DefaultGrowthLimit = 1.15;

    private readonly Func<long> residentBytes;
    private readonly Func<bool> trim;

    /// <summary>A trimmer of this process's heap.</summary>
    /// <param name="growthLimit">Trim when the resident set exceeds this multiple of the reference; greater than 1.</param>
    public NativeHeapTrimmer(double growthLimit = DefaultGrowthLimit)
        : this(growthLimit, NativeMemory.ResidentBytes, NativeMemory.TrimHeap)
    {
    }

    /// <summary>A trimmer over the given measurement and trim (tests).</summary>
    internal NativeHeapTrimmer(double growthLimit, Func<long> residentBytes, Func<bool> trim)
    {
        if (!(growthLimit > 1))
            throw new ArgumentOutOfRangeException(nameof(growthLimit), growthLimit, "The growth limit must be greater than 1.");
        GrowthLimit = growthLimit;
        this.residentBytes = residentBytes;
        this.trim = trim;
    }

    /// <summary>Trim when the resident set exceeds this multiple of <see cref="ReferenceBytes"/>.</summary>
    public double GrowthLimit { get; }

    /// <summary>The resident set the loop is held near, in bytes; -1 before the first <see cref="Check"/> or where it cannot be read.</summary>
    public long ReferenceBytes { get; private set; } = -1;

    /// <summary>Trims done so far.</summary>
    public int Trims { get; private set; }

    /// <summary>Measures the resident set and trims the heap if it has grown past the limit; true when it trimmed. Call between steps.</summary>
    public bool Check()
    {
        var now = residentBytes();
        if (now <= 0)
            return false;
        if (ReferenceBytes <= 0 || now <= ReferenceBytes * GrowthLimit)
        {
            if (ReferenceBytes <= 0)
                ReferenceBytes = now;
            return false;
        }
        if (!trim())
        {
            ReferenceBytes = now;
            return false;
        }
        Trims++;
        ReferenceBytes = Math.Max(ReferenceBytes, residentBytes());
        return true;
    }
}
