using Invertible.Tests.Support;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Tests.Lipschitz;

[TestClass]
public sealed class SpectralNormTests
{
    private static readonly SpectralNormOptions Tight = new() { RelativeTolerance = 1e-12, AbsoluteTolerance = 1e-14, MaxIterations = 100_000 };

    private static double LargestSingularValue(Tensor a) => linalg.svdvals(a).max().ToDouble();

    [TestMethod]
    [DataRow(5, 5)]
    [DataRow(20, 7)]
    [DataRow(7, 20)]
    [DataRow(64, 64)]
    public void Sigma_MatchesSvd_RandomMatrices(int rows, int columns)
    {
        manual_seed(rows * 100 + columns);
        var a = randn(rows, columns, dtype: ScalarType.Float64);
        var result = SpectralNorm.Compute(a);
        Assert.IsTrue(result.Converged, $"did not converge in {result.Iterations} iterations");
        Check.Close(result.Sigma.ToDouble(), LargestSingularValue(a), 1e-6, "σ vs svdvals");
        Check.Close(result.U.norm().ToDouble(), 1, 1e-12, "‖u‖");
        Check.Close(result.V.norm().ToDouble(), 1, 1e-12, "‖v‖");
    }

    [TestMethod]
    public void Sigma_MatchesSvd_RankDeficientMatrix()
    {
        manual_seed(3);
        var a = randn(12, 2, dtype: ScalarType.Float64).mm(randn(2, 9, dtype: ScalarType.Float64));
        var result = SpectralNorm.Compute(a);
        Assert.IsTrue(result.Converged);
        Check.Close(result.Sigma.ToDouble(), LargestSingularValue(a), 1e-6, "σ of a rank-2 matrix");
    }

    [TestMethod]
    public void Sigma_MatchesSvd_RowAndColumnVectors()
    {
        manual_seed(4);
        var row = randn(1, 17, dtype: ScalarType.Float64);
        Check.Close(SpectralNorm.Compute(row).Sigma.ToDouble(), row.norm().ToDouble(), 1e-6, "σ of a 1×n matrix");
        var column = randn(17, 1, dtype: ScalarType.Float64);
        Check.Close(SpectralNorm.Compute(column).Sigma.ToDouble(), column.norm().ToDouble(), 1e-6, "σ of an n×1 matrix");
    }

    [TestMethod]
    public void Sigma_OfZeroMatrix_IsZeroAndConverged()
    {
        var result = SpectralNorm.Compute(zeros(4, 3, dtype: ScalarType.Float64));
        Assert.IsTrue(result.Converged);
        Assert.AreEqual(0.0, result.Sigma.ToDouble());
        Check.Close(result.U.norm().ToDouble(), 1, 1e-12, "‖u‖ stays a unit vector");
    }

    [TestMethod]
    public void Gradient_MatchesFiniteDifferences_Float64()
    {
        manual_seed(5);
        var a = randn(6, 4, dtype: ScalarType.Float64).requires_grad_(true);
        var sigma = SpectralNorm.Compute(a, options: Tight).Sigma;
        var gradient = autograd.grad([sigma], [a])[0];

        const double h = 1e-5;
        using var _ = no_grad();
        for (var trial = 0; trial < 3; trial++)
        {
            var direction = randn(6, 4, dtype: ScalarType.Float64);
            var plus = SpectralNorm.Compute(a.detach() + h * direction, options: Tight).Sigma.ToDouble();
            var minus = SpectralNorm.Compute(a.detach() - h * direction, options: Tight).Sigma.ToDouble();
            var finiteDifference = (plus - minus) / (2 * h);
            Check.Close(gradient.mul(direction).sum().ToDouble(), finiteDifference, 1e-8, "directional derivative of σ");
        }
    }

    [TestMethod]
    public void Gradient_IsOuterProductOfSingularVectors()
    {
        manual_seed(6);
        var a = randn(5, 3, dtype: ScalarType.Float64).requires_grad_(true);
        var result = SpectralNorm.Compute(a, options: Tight);
        var gradient = autograd.grad([result.Sigma * 3.0], [a])[0];
        Check.TensorsClose(gradient, outer(result.U, result.V) * 3.0, 1e-14, "dσ/dA = u vᵀ scaled by the incoming gradient");
    }

    [TestMethod]
    public void Jvp_MatchesFiniteDifferences_Float64()
    {
        manual_seed(7);
        var a = randn(8, 5, dtype: ScalarType.Float64);
        var tangent = randn(8, 5, dtype: ScalarType.Float64);
        var (sigma, derivative) = SpectralNorm.Jvp(a, tangent, Tight);
        const double h = 1e-5;
        var plus = SpectralNorm.Compute(a + h * tangent, options: Tight).Sigma.ToDouble();
        var minus = SpectralNorm.Compute(a - h * tangent, options: Tight).Sigma.ToDouble();
        Check.Close(sigma.ToDouble(), LargestSingularValue(a), 1e-10, "σ from Jvp");
        Check.Close(derivative.ToDouble(), (plus - minus) / (2 * h), 1e-8, "jvp uᵀ dA v");
    }

    [TestMethod]
    public void WarmStart_FromConvergedVectors_StopsAtOnce()
    {
        manual_seed(8);
        var a = randn(10, 10, dtype: ScalarType.Float64);
        var cold = SpectralNorm.Compute(a);
        var warm = SpectralNorm.Compute(a, cold.U, cold.V);
        Assert.IsTrue(warm.Converged);
        Assert.AreEqual(1, warm.Iterations, $"cold start needed {cold.Iterations}");
    }

    [TestMethod]
    public void IterationCap_IsReportedAsNotConverged()
    {
        manual_seed(9);
        var result = SpectralNorm.Compute(randn(30, 30, dtype: ScalarType.Float64), options: new() { MaxIterations = 2 });
        Assert.IsFalse(result.Converged);
        Assert.AreEqual(2, result.Iterations);
    }

    /// <summary>
    /// The training step's fixed-count iteration runs in managed code for small CPU matrices. It must take the tensor
    /// path's iterates (σ, u, v) and give σ the same gradient u vᵀ; a NaN matrix must still be reported, not returned.
    /// </summary>
    [TestMethod]
    [DoNotParallelize]
    [DataRow(ScalarType.Float64, 1e-12)]
    [DataRow(ScalarType.Float32, 2e-6)]
    public void FixedIterations_HostAndTensorPaths_Agree(ScalarType dtype, double tolerance)
    {
        manual_seed(10);
        var a = randn(12, 19, dtype: dtype).requires_grad_(true); // 19 columns: vector lanes and a scalar tail
        var u = randn(12, dtype: dtype);
        var options = SpectralNormOptions.FixedIterations(3);
        (SpectralNormResult Result, Tensor Gradient) Run()
        {
            a.grad?.zero_();
            var result = SpectralNorm.Compute(a, u, options: options);
            result.Sigma.backward();
            return (result, a.grad!.clone());
        }
        var host = Run();
        var saved = HostPowerIteration.MaxElements;
        HostPowerIteration.MaxElements = 0;
        try
        {
            var tensors = Run();
            Check.Close(host.Result.Sigma.ToDouble(), tensors.Result.Sigma.ToDouble(), tolerance * tensors.Result.Sigma.ToDouble(), "σ");
            Check.TensorsClose(host.Result.U, tensors.Result.U, tolerance, "u");
            Check.TensorsClose(host.Result.V, tensors.Result.V, tolerance, "v");
            Check.TensorsClose(host.Gradient, tensors.Gradient, tolerance, "dσ/dA");
            Check.TensorsClose(host.Gradient, outer(host.Result.U, host.Result.V), tolerance, "dσ/dA = u vᵀ");
        }
        finally
        {
            HostPowerIteration.MaxElements = saved;
        }
        var nan = full(3, 3, double.NaN, dtype: dtype);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => SpectralNorm.Compute(nan, ones(3, dtype: dtype), options: options)).Message, "NaN");
    }

    [TestMethod]
    public void BadInput_FailsWithClearMessages()
    {
        var nan = full(3, 3, double.NaN);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => SpectralNorm.Compute(nan)).Message, "NaN");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => SpectralNorm.Compute(ones(2, 2, 2))).Message, "2-D");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => SpectralNorm.Compute(ones(3, 4), v: ones(3))).Message, "[4]");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SpectralNorm.Compute(ones(2, 2), options: new() { MaxIterations = 0 }));
    }
}
