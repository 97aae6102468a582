using Invertible.Tests.Support;
using Invertible.Torch.Implicit;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Tests.Implicit;

[TestClass]
public sealed class LinearSolveTests
{
    /// <summary>A = U diag(s) Vᵀ with singular values from 1 down to 1/κ.</summary>
    private static Tensor WithConditionNumber(int n, double kappa, int batch = 0)
    {
        Tensor Orthogonal() => linalg.qr(randn(n, n, dtype: ScalarType.Float64)).Item1;
        Tensor One() => Orthogonal().mm(diag(logspace(0, -Math.Log10(kappa), n, dtype: ScalarType.Float64))).mm(Orthogonal().t());
        return batch == 0 ? One() : stack(Enumerable.Range(0, batch).Select(_ => One()).ToArray());
    }

    /// <summary>Checks autograd's directional derivatives of L = Σ r ⊙ x(A, b) against 4th-order central differences.</summary>
    private static void CheckAgainstFiniteDifferences(Func<Tensor, Tensor, Tensor> solve, Tensor a, Tensor b, double step, double tolerance, string what)
    {
        var aLeaf = a.clone().requires_grad_(true);
        var bLeaf = b.clone().requires_grad_(true);
        var weights = randn_like(b);
        var grads = autograd.grad([solve(aLeaf, bLeaf).mul(weights).sum()], [aLeaf, bLeaf]);
        foreach (var (index, name) in new[] { (0, "A"), (1, "b") })
        {
            var direction = randn_like(index == 0 ? a : b);
            double LossAt(double h)
            {
                using var _ = no_grad();
                var (aa, bb) = index == 0 ? (a.add(direction, alpha: h), b) : (a, b.add(direction, alpha: h));
                return solve(aa, bb).mul(weights).sum().ToDouble();
            }
            var finiteDifference = FiniteDifferences.Derivative(LossAt, step);
            var analytic = grads[index].mul(direction).sum().ToDouble();
            Check.AtMost(Math.Abs(analytic - finiteDifference) / Math.Max(1, Math.Abs(finiteDifference)), tolerance, $"{what}: ∂L/∂{name} (analytic {analytic:G10}, differences {finiteDifference:G10})");
        }
    }

    [TestMethod]
    public void Dense_Gradients_MatchFiniteDifferences()
    {
        manual_seed(101);
        CheckAgainstFiniteDifferences(LinearSolve.Solve, WithConditionNumber(6, 10), randn(6, dtype: ScalarType.Float64), 1e-5, 1e-8, "well conditioned");
    }

    [TestMethod]
    public void Dense_Gradients_MatchFiniteDifferences_IllConditioned_Kappa1e6()
    {
        manual_seed(102);
        var a = WithConditionNumber(6, 1e6);
        Check.Close(linalg.cond(a).ToDouble(), 1e6, 1e-3 * 1e6, "κ(A)");
        CheckAgainstFiniteDifferences(LinearSolve.Solve, a, randn(6, dtype: ScalarType.Float64), 1e-9, 1e-6, "κ = 1e6");
    }

    [TestMethod]
    public void Dense_Gradients_MatchFiniteDifferences_Batched()
    {
        manual_seed(103);
        CheckAgainstFiniteDifferences(LinearSolve.Solve, WithConditionNumber(4, 100, batch: 3), randn(3, 4, dtype: ScalarType.Float64), 1e-5, 1e-8, "batched vectors");
        CheckAgainstFiniteDifferences(LinearSolve.Solve, WithConditionNumber(4, 100, batch: 3), randn(3, 4, 2, dtype: ScalarType.Float64), 1e-5, 1e-8, "batched matrices");
    }

    private static readonly KrylovOptions Cg = new() { Method = KrylovMethod.ConjugateGradient, Tolerance = 1e-13, MaxIterations = 500 };
    private static readonly KrylovOptions Gmres = new() { Method = KrylovMethod.Gmres, Tolerance = 1e-13, MaxIterations = 500, Restart = 20 };

    /// <summary>Rows b [batch, n] against a shared A, matrix-free: the operator is x ↦ x Aᵀ computed from the leaf A.</summary>
    private static Func<Tensor, Tensor, Tensor> MatrixFree(KrylovOptions options)
        => (a, b) => LinearSolve.Solve(x => x.mm(a.t()), b, [a], options).Solution;

    [TestMethod]
    public void MatrixFree_Gradients_MatchFiniteDifferences()
    {
        manual_seed(104);
        var m = WithConditionNumber(6, 30);
        var spd = m.t().mm(m).add(eye(6, dtype: ScalarType.Float64).mul(0.1));
        var b = randn(3, 6, dtype: ScalarType.Float64);
        CheckAgainstFiniteDifferences(MatrixFree(Cg), spd, b, 1e-5, 1e-8, "conjugate gradient");
        CheckAgainstFiniteDifferences(MatrixFree(Gmres), WithConditionNumber(6, 30), b, 1e-5, 1e-8, "GMRES");
    }

    /// <summary>
    /// At κ = 1e6 a Krylov solve is accurate to about κ · tolerance, too coarse for finite differences of its own; its
    /// gradients are checked against the dense solve's, which the test above checks against finite differences.
    /// </summary>
    [TestMethod]
    public void MatrixFree_Gradients_MatchDenseGradients_IllConditioned_Kappa1e6()
    {
        manual_seed(105);
        var q = linalg.qr(randn(6, 6, dtype: ScalarType.Float64)).Item1;
        var spd = q.mm(diag(logspace(0, -6, 6, dtype: ScalarType.Float64))).mm(q.t());
        // Float64 reaches a relative residual of about κ · 1e-16 = 1e-10 here.
        var cg = new KrylovOptions { Method = KrylovMethod.ConjugateGradient, Tolerance = 1e-10, MaxIterations = 500 };
        var gmres = new KrylovOptions { Method = KrylovMethod.Gmres, Tolerance = 1e-10, MaxIterations = 500, Restart = 20 };
        foreach (var (name, a, options) in new[] { ("conjugate gradient", spd, cg), ("GMRES", WithConditionNumber(6, 1e6), gmres) })
        {
            var b = randn(2, 6, dtype: ScalarType.Float64);
            var weights = randn(2, 6, dtype: ScalarType.Float64);
            Tensor[] Grads(Func<Tensor, Tensor, Tensor> solve)
            {
                var (aLeaf, bLeaf) = (a.clone().requires_grad_(true), b.clone().requires_grad_(true));
                return autograd.grad([solve(aLeaf, bLeaf).mul(weights).sum()], [aLeaf, bLeaf]).ToArray();
            }
            var dense = Grads((aa, bb) => LinearSolve.Solve(aa, bb.t()).t());
            var matrixFree = Grads(MatrixFree(options));
            for (var i = 0; i < 2; i++)
            {
                var relative = Check.MaxAbsDiff(matrixFree[i], dense[i]) / dense[i].abs().max().ToDouble();
                Check.AtMost(relative, 1e-6, $"{name}, κ = 1e6: gradient {(i == 0 ? "A" : "b")} relative to the dense solve's");
            }
        }
    }

    [TestMethod]
    public void MatrixFree_AgreesWithDense_AndReportsBothSolves()
    {
        manual_seed(106);
        var a = WithConditionNumber(5, 10).requires_grad_(true);
        var b = randn(4, 5, dtype: ScalarType.Float64);
        var (x, statistics) = LinearSolve.Solve(v => v.mm(a.t()), b, [a], Gmres);
        var dense = LinearSolve.Solve(a.detach(), b.t()).t();
        Check.TensorsClose(x, dense, 1e-10, "matrix-free vs dense solution");
        x.sum().backward();
        Assert.IsTrue(statistics.Forward!.Converged && statistics.Backward!.Converged, $"{statistics.Forward}; {statistics.Backward}");
    }

    [TestMethod]
    public void KrylovSolve_ThatCannotConverge_IsReported()
    {
        var a = WithConditionNumber(20, 1e8);
        var options = new KrylovOptions { Method = KrylovMethod.Gmres, MaxIterations = 3, Tolerance = 1e-12 };
        var failure = Assert.ThrowsExactly<KrylovNotConvergedException>(() => LinearSolve.Solve(x => x.mm(a.t()), randn(2, 20, dtype: ScalarType.Float64), [], options));
        Assert.IsFalse(failure.Statistics.Converged);
        StringAssert.Contains(failure.Message, "relative residual");
    }

    [TestMethod]
    public void BadInput_FailsWithClearMessages()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LinearSolve.Solve(ones(3, 4), ones(3))).Message, "square");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LinearSolve.Solve(eye(3), ones(4))).Message, "rows");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LinearSolve.Solve(zeros(3, 3), ones(3))).Message, "singular");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LinearSolve.Solve(eye(3), full(3, float.NaN))).Message, "NaN");
    }
}
