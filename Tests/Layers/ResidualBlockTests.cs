using Invertible.Tests.Support;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
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
