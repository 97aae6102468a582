using Invertible.Tests.Support;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Tests.Layers;

[TestClass]
public sealed class FusedResidualBlockTests
{
    private static readonly ImplicitOptions Precise = ImplicitOptions.Both(new FixedPointOptions { Tolerance = 1e-14, MaxIterations = 2000 });

    private static (ResidualBlock Generic, FusedResidualBlock Fused) Pair(LipschitzActivation activation, bool training)
    {
        var generic = new ResidualBlock(new ContractiveMlp(6, 16, 2, 0.9, activation, dtype: ScalarType.Float64));
        var fused = new FusedResidualBlock(new ContractiveMlp(6, 16, 2, 0.9, activation, dtype: ScalarType.Float64));
        var (missing, unexpected) = fused.load_state_dict(generic.state_dict());
        Assert.AreEqual(0, missing.Count + unexpected.Count, "the fused block loads the generic block's weights by name");
        if (!training)
        {
            generic.eval();
            fused.eval();
        }
        return (generic, fused);
    }

    private static Tensor[] Grads(Tensor loss, Tensor input, nn.Module module) => autograd.grad([loss], [input, .. module.parameters()]).ToArray();

    [TestMethod]
    [DataRow(LipschitzActivation.LipSwish, true)]
    [DataRow(LipschitzActivation.LipSwish, false)]
    [DataRow(LipschitzActivation.Elu, true)]
    [DataRow(LipschitzActivation.Tanh, false)]
    public void Forward_AgreesWithGenericBlock_ValuesAndGradients(LipschitzActivation activation, bool training)
    {
        manual_seed(41);
        var (generic, fused) = Pair(activation, training);
        var x = randn(7, 6, dtype: ScalarType.Float64).mul(2).requires_grad_(true);
        var r = randn(7, 6, dtype: ScalarType.Float64);
        var yGeneric = generic.forward(x);
        var yFused = fused.forward(x);
        Check.TensorsClose(yFused, yGeneric, 1e-10, "forward values");
        var gradsGeneric = Grads(yGeneric.mul(r).sum(), x, generic);
        var gradsFused = Grads(yFused.mul(r).sum(), x, fused);
        for (var i = 0; i < gradsGeneric.Length; i++)
            Check.TensorsClose(gradsFused[i], gradsGeneric[i], 1e-10, $"forward gradient {i} (0 = x)");
    }

    [TestMethod]
    [DataRow(LipschitzActivation.LipSwish, true)]
    [DataRow(LipschitzActivation.Elu, false)]
    [DataRow(LipschitzActivation.Tanh, true)]
    public void Inverse_AgreesWithGenericBlock_ValuesAndGradients(LipschitzActivation activation, bool training)
    {
        manual_seed(42);
        var (generic, fused) = Pair(activation, training);
        var y = randn(7, 6, dtype: ScalarType.Float64).mul(2).requires_grad_(true);
        var r = randn(7, 6, dtype: ScalarType.Float64);
        var xGeneric = generic.Inverse(y, Precise);
        var xFused = fused.Inverse(y, Precise);
        Check.TensorsClose(xFused, xGeneric, 1e-10, "inverse values");
        var gradsGeneric = Grads(xGeneric.mul(r).sum(), y, generic);
        var gradsFused = Grads(xFused.mul(r).sum(), y, fused);
        for (var i = 0; i < gradsGeneric.Length; i++)
            Check.TensorsClose(gradsFused[i], gradsGeneric[i], 1e-10, $"inverse gradient {i} (0 = y)");
    }

    [TestMethod]
    public void Inverse_ReconstructsInput()
    {
        manual_seed(43);
        var block = new FusedResidualBlock(8, 32, 0.9, dtype: ScalarType.Float64);
        block.eval();
        var x = randn(20, 8, dtype: ScalarType.Float64);
        using var _ = no_grad();
        Check.TensorsClose(block.Inverse(block.forward(x), Precise), x, 1e-12, "F⁻¹(F(x))");
    }

    [TestMethod]
    public void DeeperMlp_IsRejected()
    {
        var deep = new ContractiveMlp(4, 8, 3, 0.9);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new FusedResidualBlock(deep)).Message, "two linear layers");
    }
}
