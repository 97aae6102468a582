using Invertible.Torch;

namespace Invertible.Tests;

[TestClass]
public sealed class NativeMemoryTests
{
    [TestMethod]
    public void PinMmapThreshold_RejectsANonPositiveSize()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => NativeMemory.PinMmapThreshold(0));
        Assert.AreEqual("bytes", error.ParamName);
    }
}
