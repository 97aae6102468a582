using System.Runtime.InteropServices;

namespace Invertible.Torch;

/// <summary>
/// Opt-in control of glibc's allocator for long libtorch loops on Linux.
/// </summary>
/// <remarks>
/// <para>With glibc's defaults the peak RSS of a long libtorch loop is bursty: libtorch allocates from its worker
/// threads as well as the caller's, glibc returns memory freed into their arenas late, and the high-water mark rises
/// by up to ~100 MB over the working set although every tensor is disposed (measured over 3 000–10 000 steps of an
/// implicit-inverse training step: peak 1.2–1.6× the RSS after 100 steps; the working set itself stays flat).
/// <c>malloc_trim</c> after every step kept the peak within 1.05×; a single arena, a fixed 16 MiB mmap threshold and
/// their combination each kept it within 1.05× in some runs and not in others, so none is applied by default.
/// Pinning the threshold low with <see cref="PinMmapThreshold"/> makes the peak track live tensors (the peak-memory
/// benchmark uses it) but made the training step 3.6× slower at 128 KiB. Numbers: <c>Benchmarks native-memory</c>.</para>
/// </remarks>
public static class NativeMemory
{
    private const int MmapThreshold = -3;

    /// <summary>Pins glibc's mmap threshold at <paramref name="bytes"/>; returns false where that is not possible.</summary>
    public static bool PinMmapThreshold(int bytes = 128 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            return mallopt(MmapThreshold, bytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);
}
