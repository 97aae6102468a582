using Invertible.Torch.Checks;
using Invertible.Tests.Support;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Tests.Lipschitz;

[TestClass]
public sealed class SpectralNormLinearTests
{
    [TestMethod]
    [DataRow(0.5)]
    [DataRow(0.9)]
    [DataRow(0.97)]
    public void CertifiedBound_HoldsInEvalMode_After200AggressiveAdamSteps(double coefficient)
    {
        manual_seed(11);
        var g = new ContractiveMlp(8, 32, 3, coefficient, LipschitzActivation.LipSwish);
        var optimizer = optim.Adam(g.parameters(), lr: 0.5);
        var x = randn(64, 8);
        for (var step = 0; step < 200; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            // Maximising the output norm pushes every weight's spectral norm up as fast as Adam allows.
            var loss = g.forward(x).square().mean().neg();
            loss.backward();
            optimizer.step();
        }
        g.eval();
        using var _ = no_grad();
        foreach (var layer in g.LinearLayers)
        {
            var exact = linalg.svdvals(layer.EffectiveWeight()).max().ToDouble();
            Check.AtMost(exact, coefficient * (1 + 1e-4), "exact spectral norm of an effective weight");
            Check.AtMost(exact, layer.LipschitzBound() * (1 + 1e-5), "reported bound vs exact (float32 rounding)");
        }
        LipschitzCheck.AtMost(g, Math.Pow(coefficient, 3) * (1 + 1e-3));
    }

    [TestMethod]
    public void Training_AdvancesPowerIteration_EvalFreezesIt()
    {
        manual_seed(12);
        var layer = new SpectralNormLinear(6, 5, 0.9);
        var uBefore = layer.get_buffer("u")!.clone();
        using (no_grad())
            layer.Weight.add_(randn(5, 6));
        layer.forward(randn(2, 6));
        Assert.IsTrue(Check.MaxAbsDiff(layer.get_buffer("u")!, uBefore) > 0, "a training forward must update u");

        layer.eval();
        var uFrozen = layer.get_buffer("u")!.clone();
        layer.forward(randn(2, 6));
        Assert.AreEqual(0.0, Check.MaxAbsDiff(layer.get_buffer("u")!, uFrozen), "eval forward must not touch u");
    }

    /// <summary>
    /// Training mode with one power iteration per call (the default) must track a weight whose top singular direction
    /// moved: here W is replaced by one whose top right singular vector is orthogonal to the stored v. Within a few
    /// calls the normalised weight's exact spectral norm must be back at the coefficient. (Starting each call from the
    /// stored v instead of Aᵀu froze v: σ̂ = ‖A v₀‖ stayed at the small singular value and σ(W_eff) was 12× too large.)
    /// </summary>
    [TestMethod]
    public void Training_OneIterationPerCall_TracksAMovedTopSingularVector()
    {
        manual_seed(14);
        const double coefficient = 0.9;
        var layer = new SpectralNormLinear(6, 6, coefficient, powerIterations: 1);
        var v = layer.named_buffers().Single(b => b.name == "v").buffer;
        using (no_grad())
        {
            // Orthonormal basis whose first column is v: W = Q diag(12, 1, …) Qᵀ has its top direction ⊥ v.
            var basis = linalg.qr(cat([v.unsqueeze(1), randn(6, 5)], 1)).Q;
            var spectrum = tensor(new float[] { 1, 12, 0.5f, 0.4f, 0.3f, 0.2f });
            layer.Weight.copy_(basis.mul(spectrum).mm(basis.t()));
        }
        layer.train();
        Tensor effective = null!;
        for (var call = 0; call < 8; call++)
            effective = layer.EffectiveWeight().detach();
        var exact = linalg.svdvals(effective).max().ToDouble();
        Check.AtMost(exact, coefficient * 1.01, "exact spectral norm of the effective weight after 8 training calls");
    }

    [TestMethod]
    public void EffectiveWeight_LeavesSmallWeightsUnchanged()
    {
        var layer = new SpectralNormLinear(4, 4, 0.9);
        using (no_grad())
            layer.Weight.copy_(eye(4) * 0.5);
        layer.eval();
        Check.TensorsClose(layer.EffectiveWeight(), eye(4) * 0.5, 1e-7, "W with σ = 0.5 < c is not rescaled");
    }

    [TestMethod]
    public void BadArguments_FailWithClearMessages()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SpectralNormLinear(4, 4, 1.5));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SpectralNormLinear(0, 4, 0.5));
        var layer = new SpectralNormLinear(4, 3, 0.5);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => layer.forward(ones(2, 5))).Message, "4 features");
    }

    [TestMethod]
    [DataRow(0.1)]
    [DataRow(1.0)]
    [DataRow(10.0)]
    public void LipSwish_Is1Lipschitz(double beta)
    {
        var activation = new LipSwish(beta, ScalarType.Float64);
        Check.Close(activation.Beta, beta, 1e-12, "β");
        var x = linspace(-50, 50, 200_001, dtype: ScalarType.Float64).requires_grad_(true);
        var slope = autograd.grad([activation.forward(x).sum()], [x])[0].abs().max().ToDouble();
        Check.AtMost(slope, 1.0, "largest |LipSwish'(x)|");
        Check.Less(0.9, slope, "LipSwish should use most of its Lipschitz budget");
    }
}
