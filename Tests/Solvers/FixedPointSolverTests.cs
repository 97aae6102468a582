using Invertible.Tests.Support;
using Invertible.Torch.Implicit;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Tests.Solvers;

[TestClass]
public sealed class FixedPointSolverTests
{
    private static readonly FixedPointSolverKind[] AllKinds = Enum.GetValues<FixedPointSolverKind>();

    /// <summary>x = A x + b with ‖A‖ = rate: a linear contraction with a known solution (I − A)⁻¹ b.</summary>
    private static (Func<Tensor, Tensor> F, Tensor Solution) LinearContraction(int batch, int width, double rate)
    {
        var m = randn(width, width, dtype: ScalarType.Float64);
        var a = m.div(linalg.svdvals(m).max()).mul(rate);
        var b = randn(batch, width, dtype: ScalarType.Float64);
        var solution = linalg.solve(eye(width, dtype: ScalarType.Float64) - a, b.t()).t();
        return (x => x.mm(a.t()).add(b), solution);
    }

    [TestMethod]
    public void EverySolver_FindsTheFixedPointOfALinearContraction()
    {
        foreach (var kind in AllKinds)
        {
            manual_seed(21);
            var (f, solution) = LinearContraction(4, 10, 0.9);
            var result = FixedPointSolver.Create(new FixedPointOptions { Solver = kind, Tolerance = 1e-10 }).Solve(f, zeros(4, 10, dtype: ScalarType.Float64));
            Assert.IsTrue(result.Statistics.Converged, $"{kind}: {result.Statistics}");
            Check.AtMost(result.Statistics.RelativeResidual, 1e-10, $"{kind} residual");
            Check.TensorsClose(result.Solution, solution, 1e-8, $"{kind} solution");
            Assert.AreEqual(result.Statistics.Iterations, result.Statistics.ResidualTrace.Count, "one trace entry per evaluation");
            Assert.AreEqual(4, result.Statistics.SampleResiduals.Count, "one residual per sample");
        }
    }

    [TestMethod]
    public void AcceleratedSolvers_BeatPicard_OnAWorstCaseLinearMap()
    {
        manual_seed(22);
        var (f, _) = LinearContraction(2, 30, 0.99);
        var counts = AllKinds.ToDictionary(k => k, k =>
            FixedPointSolver.Create(new FixedPointOptions { Solver = k, Tolerance = 1e-6, MaxIterations = 5000 }).Solve(f, zeros(2, 30, dtype: ScalarType.Float64)).Statistics);
        Assert.IsTrue(counts.Values.All(s => s.Converged), string.Join("; ", counts.Values));
        Check.Less(counts[FixedPointSolverKind.Anderson].Iterations, counts[FixedPointSolverKind.Picard].Iterations, "Anderson vs Picard evaluations");
        Check.Less(counts[FixedPointSolverKind.Broyden].Iterations, counts[FixedPointSolverKind.Picard].Iterations, "Broyden vs Picard evaluations");
    }

    [TestMethod]
    public void AcceleratedSolvers_NeedFewerEvaluationsOfG_OnAHardBlock_AtCoefficient097()
    {
        manual_seed(23);
        var block = Blocks.Aligned(16, 0.97, ScalarType.Float64);
        var y = block.forward(randn(32, 16, dtype: ScalarType.Float64)).detach();
        var evaluations = AllKinds.ToDictionary(k => k, k =>
        {
            var options = new ImplicitOptions { Forward = new FixedPointOptions { Solver = k, Tolerance = 1e-6 } };
            var solve = block.InverseWithStatistics(y, options).Solves.Single().Forward;
            Assert.IsTrue(solve.Converged, solve.ToString());
            return solve.Iterations;
        });
        var report = string.Join(", ", evaluations.Select(e => $"{e.Key} {e.Value}"));
        Check.Less(20, evaluations[FixedPointSolverKind.Picard], $"the aligned block should be hard for Picard ({report})");
        Check.Less(evaluations[FixedPointSolverKind.Anderson], evaluations[FixedPointSolverKind.Picard], $"Anderson ({report})");
        Check.Less(evaluations[FixedPointSolverKind.Broyden], evaluations[FixedPointSolverKind.Picard], $"Broyden ({report})");
    }

    [TestMethod]
    public void EverySolver_CappedAtThreeIterations_ReportsNotConverged()
    {
        foreach (var kind in AllKinds)
        {
            manual_seed(24);
            var (f, _) = LinearContraction(3, 8, 0.95);
            var stats = FixedPointSolver.Create(new FixedPointOptions { Solver = kind, MaxIterations = 3, Tolerance = 1e-12 }).Solve(f, zeros(3, 8, dtype: ScalarType.Float64)).Statistics;
            Assert.IsFalse(stats.Converged, kind.ToString());
            Assert.AreEqual(3, stats.Iterations, kind.ToString());
            Check.Less(1e-12, stats.RelativeResidual, $"{kind} reports its real residual");
            var failure = Assert.ThrowsExactly<SolverNotConvergedException>(() => new FixedPointResult(zeros(1), stats).EnsureConverged("test solve", 1e-12));
            StringAssert.Contains(failure.Message, "did not converge");
        }
    }

    [TestMethod]
    public void Solution_IsTheLowestResidualIterate()
    {
        // f oscillates: iterates alternate between a good and a bad point; the good one must be returned.
        var calls = 0;
        Tensor F(Tensor x) => ++calls % 2 == 1 ? x.add(1e-3) : x.add(10.0);
        var result = new PicardSolver(new FixedPointOptions { Solver = FixedPointSolverKind.Picard, MaxIterations = 6, Tolerance = 1e-9 })
            .Solve(F, ones(1, 4, dtype: ScalarType.Float64));
        Assert.IsFalse(result.Statistics.Converged);
        Check.AtMost(result.Statistics.RelativeResidual, 1e-3, "best residual");
        Check.Close(result.Statistics.SampleResiduals[0], result.Statistics.ResidualTrace.Min(), 1e-15, "returned residual is the trace's minimum");
    }

    [TestMethod]
    public void Residuals_AreMeasuredPerSample()
    {
        // Row 0 is constant (solved after one step); row 1 contracts at rate 0.9.
        var rates = tensor(new[] { 0.0, 0.9 }, dtype: ScalarType.Float64).view(2, 1);
        var offsets = ones(2, 5, dtype: ScalarType.Float64);
        var stats = new PicardSolver(new FixedPointOptions { Solver = FixedPointSolverKind.Picard, MaxIterations = 4, Tolerance = 1e-12 })
            .Solve(x => x.mul(rates).add(offsets), zeros(2, 5, dtype: ScalarType.Float64)).Statistics;
        Assert.AreEqual(0.0, stats.SampleResiduals[0], "the constant row is solved exactly");
        Check.Less(0.1, stats.SampleResiduals[1], "the slow row is far from solved");
        Check.Close(stats.RelativeResidual, stats.SampleResiduals[1], 0, "the reported residual is the worst row's");
    }

    [TestMethod]
    public void BadInput_FailsWithClearMessages()
    {
        var solver = FixedPointSolver.Create();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => solver.Solve(x => x, full(2, 3, double.NaN))).Message, "NaN");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => solver.Solve(x => x[.., ..2], ones(2, 3))).Message, "shape");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FixedPointSolver.Create(new FixedPointOptions { Damping = 0 })).Message, "Damping");
    }
}
