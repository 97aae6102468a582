using Invertible.Tests.Support;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Tests.Layers;

[TestClass]
public sealed class ResidualBlockTests
{
    private static ImplicitOptions Precise(FixedPointSolverKind kind = FixedPointSolverKind.Anderson) => new()
    {
        Forward = new FixedPointOptions { Solver = kind, Tolerance = 1e-14, MaxIterations = 2000 },
        Backward = new FixedPointOptions { Solver = kind, Tolerance = 1e-14, MaxIterations = 2000 },
    };

    /// <summary>
    /// Inputs uniform in [−scale, scale]. Float32 resolves 7.6e-6 at magnitude 100, so meeting 1e-5 there needs the
    /// solve to reach the float32 floor: relative residual 5e-8 (measured floor ≈ 3e-8).
    /// </summary>
    [TestMethod]
    [DataRow(1.0)]
    [DataRow(100.0)]
    public void Inverse_ReconstructsInput_Float32_Coefficient09(double scale)
    {
        foreach (var kind in Enum.GetValues<FixedPointSolverKind>())
        {
            manual_seed(31);
            var block = Blocks.Random(16, 64, 0.9, ScalarType.Float32);
            var x = rand(128, 16).mul(2 * scale).sub(scale);
            using var _ = no_grad();
            var options = new ImplicitOptions { Forward = new FixedPointOptions { Solver = kind, Tolerance = 5e-8 } };
            var result = block.InverseWithStatistics(block.forward(x), options);
            Check.AtMost(Check.MaxAbsDiff(result.Input, x), 1e-5, $"{kind}: ‖F⁻¹(F(x)) − x‖∞ at scale {scale} ({result.Solves[0].Forward})");
        }
    }

    [TestMethod]
    public void Stack_InvertsBlockByBlockInReverse()
    {
        manual_seed(32);
        var stack = ResidualStack.Create(8, 4, new ResidualBlockOptions { Coefficient = 0.9, HiddenFeatures = 32, DType = ScalarType.Float64 });
        stack.eval();
        var x = randn(16, 8, dtype: ScalarType.Float64);
        using var _ = no_grad();
        var result = stack.InverseWithStatistics(stack.forward(x), Precise());
        Check.TensorsClose(result.Input, x, 1e-12, "stack reconstruction");
        Assert.AreEqual(4, result.Solves.Count);
        CollectionAssert.AreEqual(new[] { "inverse of the residual block 3", "inverse of the residual block 2", "inverse of the residual block 1", "inverse of the residual block 0" },
            result.Solves.Select(s => s.What).ToArray(), "blocks are inverted last to first");
        Check.TensorsClose(stack.forward(stack.Inverse(x, Precise())), x, 1e-12, "F(F⁻¹(y)) = y");
    }

    /// <summary>Loss L(x) = Σ r ⊙ x with fixed random r, so the gradient is a generic vector–Jacobian product.</summary>
    private static Tensor Loss(Tensor x, Tensor weights) => x.mul(weights).sum();

    private static Tensor[] Gradients(Tensor loss, Tensor y, ResidualBlock block)
        => autograd.grad([loss], [y, .. block.parameters()]).ToArray();

    [TestMethod]
    public void ImplicitGradient_EqualsGradientThrough300UnrolledIterations_Float64()
    {
        foreach (var kind in Enum.GetValues<FixedPointSolverKind>())
        {
            manual_seed(33);
            var block = Blocks.Random(6, 12, 0.9, ScalarType.Float64);
            var y = randn(5, 6, dtype: ScalarType.Float64).mul(2).requires_grad_(true);
            var weights = randn(5, 6, dtype: ScalarType.Float64);

            var result = block.InverseWithStatistics(y, Precise(kind));
            var implicitGrads = Gradients(Loss(result.Input, weights), y, block);
            Assert.IsNotNull(result.Solves[0].Backward, "backward statistics are filled in");
            Assert.IsTrue(result.Solves[0].Backward!.Converged, result.Solves[0].ToString());

            var parameters = block.Residual.EffectiveParameters().ToArray();
            var x = y;
            for (var i = 0; i < 300; i++)
                x = y - block.Residual.Apply(x, parameters);
            var unrolledGrads = Gradients(Loss(x, weights), y, block);

            Assert.AreEqual(unrolledGrads.Length, implicitGrads.Length);
            for (var i = 0; i < implicitGrads.Length; i++)
                Check.TensorsClose(implicitGrads[i], unrolledGrads[i], 1e-8, $"{kind}: gradient {i} (0 = y, then the block's parameters)");
        }
    }

    [TestMethod]
    public void ImplicitGradient_MatchesFiniteDifferences_Float64()
    {
        manual_seed(34);
        var block = Blocks.Random(5, 10, 0.9, ScalarType.Float64);
        var y = randn(4, 5, dtype: ScalarType.Float64).requires_grad_(true);
        var weights = randn(4, 5, dtype: ScalarType.Float64);
        var grads = Gradients(Loss(block.Inverse(y, Precise()), weights), y, block);
        var tensors = new[] { y }.Concat(block.parameters()).ToArray();
        FiniteDifferences.CheckDirectionalDerivatives(tensors, grads, () => Loss(block.Inverse(y.detach(), Precise()), weights).ToDouble(), 1e-3, 1e-8, "inverse");
    }

    /// <summary>‖a − e‖ / ‖e‖ over tensors of any type, in float64.</summary>
    private static double RelativeError(Tensor actual, Tensor expected)
    {
        var e = expected.to(ScalarType.Float64);
        return actual.to(ScalarType.Float64).sub(e).norm().ToDouble() / e.norm().ToDouble();
    }

    /// <summary>
    /// Float32 blocks that ship, each with a float64 copy of the same weights and frozen singular vectors: a random LipSwish
    /// block with β = softplus(ρ) far from 1 and non-zero biases, and the hard aligned block at c = 0.97 with its raw
    /// weights scaled by 1.25, so that the normalisation W · c / σ is active and differentiable (the aligned block sits at
    /// σ = c, the kink of max(1, σ / c), where float32 and float64 may fall on different sides).
    /// </summary>
    private static IEnumerable<(string Name, ResidualBlock Single, ResidualBlock Double)> Float32BlocksWithFloat64Copies()
    {
        var random = Blocks.Random(8, 32, 0.9, ScalarType.Float32);
        using (no_grad())
        {
            ((LipSwish)random.Residual.Layers[1]).Rho.fill_(1.7);
            foreach (var linear in random.Residual.LinearLayers)
                linear.Bias!.copy_(randn_like(linear.Bias!).mul(0.5));
        }
        var aligned = Blocks.Aligned(8, 0.97, ScalarType.Float32);
        using (no_grad())
        {
            foreach (var linear in aligned.Residual.LinearLayers)
                linear.Weight.mul_(1.25);
        }
        foreach (var (name, single, copy) in new[]
        {
            ("random LipSwish block", random, Blocks.Random(8, 32, 0.9, ScalarType.Float64)),
            ("aligned block at c = 0.97", aligned, Blocks.Aligned(8, 0.97, ScalarType.Float64)),
        })
        {
            copy.load_state_dict(single.state_dict());
            yield return (name, single, copy);
        }
    }

    [TestMethod]
    public void ImplicitGradient_Float32_MatchesFloat64UnrolledGradient_WithinRelative1e4()
    {
        manual_seed(37);
        foreach (var (name, single, copy) in Float32BlocksWithFloat64Copies())
        {
            var data = randn(16, 8).mul(2);
            var weights = randn(16, 8);

            var y = data.clone().requires_grad_(true);
            var result = single.InverseWithStatistics(y);
            var grads = Gradients(Loss(result.Input, weights), y, single);
            Assert.IsTrue(result.Solves[0].Backward!.Converged, $"{name}: {result.Solves[0]}");

            // The reference: float64 autograd through 600 Picard iterations (rate ≤ 0.97² for the aligned block: 1e-16).
            var y64 = data.to(ScalarType.Float64).requires_grad_(true);
            var parameters = copy.Residual.EffectiveParameters().ToArray();
            var x = y64;
            for (var i = 0; i < 600; i++)
                x = y64 - copy.Residual.Apply(x, parameters);
            Check.AtMost(RelativeError(result.Input, x), 1e-5, $"{name}: float32 inverse vs float64");
            var reference = Gradients(Loss(x, weights.to(ScalarType.Float64)), y64, copy);
            for (var i = 0; i < grads.Length; i++)
                Check.AtMost(RelativeError(grads[i], reference[i]), 1e-4, $"{name}: relative error of gradient {i} (0 = y)");
        }
    }

    [TestMethod]
    public void Inverse_ThatCannotConverge_ThrowsWithResidual()
    {
        manual_seed(35);
        var block = Blocks.Aligned(16, 0.97, ScalarType.Float64);
        var y = block.forward(randn(8, 16, dtype: ScalarType.Float64)).detach();
        var capped = new ImplicitOptions { Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, MaxIterations = 3 } };
        var failure = Assert.ThrowsExactly<SolverNotConvergedException>(() => block.Inverse(y, capped));
        Assert.IsFalse(failure.Statistics.Converged);
        Assert.AreEqual(3, failure.Statistics.Iterations);
        StringAssert.Contains(failure.Message, "residual block");

        var lenient = new ImplicitOptions { Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, MaxIterations = 3, ThrowOnNonConvergence = false } };
        var result = block.InverseWithStatistics(y, lenient);
        Assert.IsFalse(result.Solves[0].Forward.Converged, "non-convergence is reported even when it is not thrown");
    }

    [TestMethod]
    public void AdjointThatCannotConverge_IsRethrownAfterBackward()
    {
        manual_seed(36);
        var block = Blocks.Aligned(8, 0.97, ScalarType.Float64);
        var y = randn(4, 8, dtype: ScalarType.Float64).requires_grad_(true);
        var options = new ImplicitOptions { Backward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, MaxIterations = 2, Tolerance = 1e-12 } };
        var result = block.InverseWithStatistics(y, options);
        result.Input.sum().backward();
        Assert.IsFalse(result.Solves[0].Backward!.Converged);
        var failure = Assert.ThrowsExactly<InvalidOperationException>(BackwardFailures.ThrowIfAny);
        Assert.IsInstanceOfType<SolverNotConvergedException>(failure.InnerException);
        BackwardFailures.ThrowIfAny(); // cleared
    }

    [TestMethod]
    public void BadInput_FailsWithClearMessages()
    {
        var block = Blocks.Random(4, 8, 0.9, ScalarType.Float32);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => block.forward(ones(3, 5))).Message, "[batch, 4]");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => block.Inverse(ones(4))).Message, "[batch, 4]");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => block.Inverse(full(2, 4, float.NaN))).Message, "NaN");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ResidualBlock(4, new ResidualBlockOptions { Coefficient = 1.0 }));
    }
}
