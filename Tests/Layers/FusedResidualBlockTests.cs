using Invertible.Tests.Support;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Solvers;
using TorchSharp.Modules;
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

    /// <summary>
    /// A generic and a fused LipSwish block sharing random weights and a random ρ, so β = softplus(ρ) is far from 1 and
    /// the β terms of the hand-derived gradients (1/β in the parameter gradient, σ(ρ) in softplus' derivative) matter.
    /// </summary>
    private static (ResidualBlock Generic, FusedResidualBlock Fused, Parameter FusedRho) PairAtRandomBeta()
    {
        var generic = new ResidualBlock(new ContractiveMlp(6, 16, 2, 0.9, LipschitzActivation.LipSwish, dtype: ScalarType.Float64));
        var fused = new FusedResidualBlock(new ContractiveMlp(6, 16, 2, 0.9, LipschitzActivation.LipSwish, dtype: ScalarType.Float64));
        var genericRho = ((LipSwish)generic.Residual.Layers[1]).Rho;
        using (no_grad())
        {
            genericRho.copy_(randn(1, dtype: ScalarType.Float64).squeeze().mul(1.5).add(1));
            foreach (var linear in generic.Residual.LinearLayers)
                linear.Bias!.copy_(randn_like(linear.Bias!).mul(0.5));
        }
        fused.load_state_dict(generic.state_dict());
        generic.eval();
        fused.eval();
        var activation = (LipSwish)fused.Residual.Layers[1];
        Check.Less(0.3, Math.Abs(activation.Beta - 1), "distance of β from 1");
        return (generic, fused, activation.Rho);
    }

    [TestMethod]
    public void LipSwishBetaNot1_ForwardAndInverse_ValuesAndGradients_MatchGenericBlockAndFiniteDifferences()
    {
        manual_seed(44);
        var (generic, fused, rho) = PairAtRandomBeta();
        var weights = randn(7, 6, dtype: ScalarType.Float64);
        var directions = new (string Name, Func<nn.Module, Tensor, Tensor> Map, Tensor Input)[]
        {
            ("forward", (block, t) => ((ResidualBlockBase)block).forward(t), randn(7, 6, dtype: ScalarType.Float64).mul(2)),
            ("inverse", (block, t) => ((ResidualBlockBase)block).Inverse(t, Precise), randn(7, 6, dtype: ScalarType.Float64).mul(2)),
        };
        foreach (var (name, map, data) in directions)
        {
            var input = data.clone().requires_grad_(true);
            var valueGeneric = map(generic, input);
            var valueFused = map(fused, input);
            Check.TensorsClose(valueFused, valueGeneric, 1e-10, $"{name}: values");
            var gradsGeneric = Grads(valueGeneric.mul(weights).sum(), input, generic);
            var gradsFused = Grads(valueFused.mul(weights).sum(), input, fused);
            for (var i = 0; i < gradsGeneric.Length; i++)
                Check.TensorsClose(gradsFused[i], gradsGeneric[i], 1e-10, $"{name}: gradient {i} (0 = input)");

            var gradRho = gradsFused[1 + fused.parameters().ToList().FindIndex(p => ReferenceEquals(p, rho))];
            Check.Less(1e-3, gradRho.abs().ToDouble(), $"{name}: |∂L/∂ρ|");
            double Loss() => map(fused, data).mul(weights).sum().ToDouble();
            FiniteDifferences.CheckDirectionalDerivatives([rho, data], [gradRho, gradsFused[0]], Loss, 1e-3, 1e-8, $"{name} of the fused block (ρ, input)");
        }
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
