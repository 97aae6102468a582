using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Invertible.Torch.Core;

/// <summary>
/// The process's native memory on Linux: its resident set, returning freed heap memory to the system, and glibc's
/// mmap threshold. Everything is a no-op (or "unknown") on other systems and C libraries.
/// </summary>
/// <remarks>
/// <para>libtorch allocates through the C library from its worker threads as well as the caller's; glibc may keep
/// memory freed into those threads' arenas instead of returning it. Over 10 000-step training runs here
/// (<c>Benchmarks native-memory</c>) the working set stayed flat under glibc's defaults but the peak resident set
/// reached 1.02–1.59× its value after 100 steps, in bursts. <see cref="NativeHeapTrimmer"/>, on by default in
/// <see cref="Training.Trainer"/>, held it at 1.12–1.15× for 1.3 µs per step. Pinning the threshold low with
/// <see cref="PinMmapThreshold"/> makes the peak track live tensors (the peak-memory benchmark uses it) but made a
/// training step 3.6× slower at 128 KiB.</para>
/// </remarks>
public static class NativeMemory
{
    private const int MmapThreshold = -3;
    private static readonly Lazy<SafeFileHandle?> Statm = new(OpenStatm);

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

    /// <summary>The process's resident set in bytes, or -1 where it cannot be read (one read of <c>/proc/self/statm</c>, no allocation).</summary>
    public static long ResidentBytes()
    {
        if (Statm.Value is not { } handle)
            return -1;
        Span<byte> text = stackalloc byte[128];
        var length = RandomAccess.Read(handle, text, 0);
        // statm: size resident shared text lib data dt, in pages.
        var i = text[..length].IndexOf((byte)' ');
        long pages = 0;
        for (i++; i > 0 && i < length && text[i] is >= (byte)'0' and <= (byte)'9'; i++)
            pages = pages * 10 + (text[i] - '0');
        return i > 0 ? pages * Environment.SystemPageSize : -1;
    }

    /// <summary>Returns free memory held by the C heap to the system (glibc's <c>malloc_trim(0)</c>); false where that is not possible.</summary>
    public static bool TrimHeap()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            malloc_trim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static SafeFileHandle? OpenStatm()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        try
        {
            return File.OpenHandle("/proc/self/statm");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
