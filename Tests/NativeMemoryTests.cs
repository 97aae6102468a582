using System.Globalization;
using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch;

namespace Invertible.Tests;

[TestClass]
public sealed class NativeMemoryTests
{
    private const long Megabyte = 1 << 20;

    [TestMethod]
    public void PinMmapThreshold_RejectsANonPositiveSize()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => NativeMemory.PinMmapThreshold(0));
        Assert.AreEqual("bytes", error.ParamName);
    }

    /// <summary>The resident set read from statm (pages) agrees with the kernel's VmRSS (kilobytes).</summary>
    [TestMethod]
    [DoNotParallelize]
    public void ResidentBytes_AgreesWithVmRss()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("Linux only.");
        var ours = NativeMemory.ResidentBytes();
        var kernel = VmRssBytes();
        Assert.AreEqual(kernel, ours, 8 * Megabyte, "resident bytes");
    }

    /// <summary>Heap memory freed but kept by glibc stays resident until <see cref="NativeMemory.TrimHeap"/> returns it.</summary>
    [TestMethod]
    [DoNotParallelize]
    public void TrimHeap_ReturnsFreedHeapMemoryToTheSystem()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("Linux only.");
        using var fragment = new HeapFragment(192 * Megabyte);
        var kept = NativeMemory.ResidentBytes();
        Assert.IsTrue(NativeMemory.TrimHeap(), "glibc trims");
        var trimmed = NativeMemory.ResidentBytes();
        Assert.IsGreaterThan(150 * Megabyte, kept - trimmed, $"bytes returned by the trim (resident {kept / Megabyte} MB before, {trimmed / Megabyte} MB after)");
    }

    internal static long VmRssBytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
