using TorchSharp;
namespace Invertible.Tests;
[TestClass]
public sealed class SmokeTests
{
    [TestMethod]
    public void Torch_Initialises() => Assert.AreEqual(6.0, torch.ones(2, 3).sum().item<float>());
}
