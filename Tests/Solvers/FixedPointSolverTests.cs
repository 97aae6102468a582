using Invertible.Tests.Support;
using Invertible.Torch.Implicit;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Tests.Solvers;

[TestClass]
public sealed class FixedPointSolverTests
{
    private static readonly FixedPointSolverKind[] AllKinds = Enum.GetValues<FixedPointSolverKind>();

    /// <summary>x = A x + b with ‖A‖ = rate: a linear contraction whose pre-images and solution are known.</summary>
    private static (Func<Tensor, Tensor> F, Tensor A, Tensor B) LinearMap(int batch, int width, double rate)
    {
        var m = randn(width, width, dtype: ScalarType.Float64);
        var a = m.div(linalg.svdvals(m).max()).mul(rate);
        var b = randn(batch, width, dtype: ScalarType.Float64);
        return (x => x.mm(a.t()).add(b), a, b);
    }

    /// <summary><see cref="LinearMap"/> and its solution (I − A)⁻¹ b.</summary>
    private static (Func<Tensor, Tensor> F, Tensor Solution) LinearContraction(int batch, int width, double rate)
    {
        var (f, a, b) = LinearMap(batch, width, rate);
        return (f, linalg.solve(eye(width, dtype: ScalarType.Float64) - a, b.t()).t());
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

    /// <summary>
    /// Small CPU batches run Anderson's history and mixing in managed arrays with the tensor path's roundings; the two
    /// take the same iterates up to the summation order of the mixing, so the same number of evaluations and the same
    /// residuals to many digits — in float32 too, where the best-iterate rule near the rounding floor is sensitive.
    /// </summary>
    [TestMethod]
    [DoNotParallelize]
    [DataRow(ScalarType.Float64, 1e-10, 1.0, 1e-4)]
    [DataRow(ScalarType.Float64, 1e-10, 0.8, 1e-4)]
    [DataRow(ScalarType.Float32, 5e-8, 1.0, 0.05)]
    public void Anderson_HostAndTensorPaths_TakeTheSameIterates(ScalarType dtype, double tolerance, double mixing, double traceTolerance)
    {
        manual_seed(26);
        var block = Blocks.Aligned(16, 0.97, dtype);
        var y = block.forward(randn(8, 16, dtype: dtype)).detach();
        var options = new ImplicitOptions
        {
            Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Anderson, Tolerance = tolerance, AndersonMixing = mixing, ThrowOnNonConvergence = false },
        };
        var host = block.InverseWithStatistics(y, options);
        var saved = AndersonSolver.HostElements;
        AndersonSolver.HostElements = 0;
        try
        {
            var tensors = block.InverseWithStatistics(y, options);
            var (a, b) = (host.Solves.Single().Forward, tensors.Solves.Single().Forward);
            Assert.IsTrue(a.Converged && b.Converged, $"{a}; {b}");
            Assert.AreEqual(b.Iterations, a.Iterations, "evaluations of g");
            for (var i = 0; i < a.Iterations; i++)
                Check.AtMost(Math.Abs(Math.Log(a.ResidualTrace[i] / b.ResidualTrace[i])), traceTolerance, $"log ratio of the residuals after iteration {i}");
        }
        finally
        {
            AndersonSolver.HostElements = saved;
        }
    }

    /// <summary>
    /// The tracker measures small CPU batches in managed code and large ones with tensor operations. Anderson on a
    /// hard block capped before convergence is not monotone, so rows improve at different iterations and the returned
    /// solution is a per-row mix of iterates: both paths must pick the same ones.
    /// </summary>
    [TestMethod]
    [DoNotParallelize]
    [DataRow(ScalarType.Float64, FixedPointSolverKind.Anderson)]
    [DataRow(ScalarType.Float32, FixedPointSolverKind.Anderson)]
    [DataRow(ScalarType.Float32, FixedPointSolverKind.Picard)]
    public void Tracker_HostAndTensorPaths_RecordTheSameSolve(ScalarType dtype, FixedPointSolverKind kind)
    {
        manual_seed(27);
        var block = Blocks.Aligned(16, 0.97, dtype);
        var y = block.forward(randn(8, 16, dtype: dtype).mul(tensor(new double[] { 1, 3, 0.1, 10, 1, 2, 0.5, 5 }, dtype: dtype).unsqueeze(1))).detach();
        var options = new ImplicitOptions
        {
            Forward = new FixedPointOptions { Solver = kind, Tolerance = 1e-9, MaxIterations = 10, ThrowOnNonConvergence = false },
        };
        var host = block.InverseWithStatistics(y, options);
        var saved = FixedPointSolver.Tracker.HostElements;
        FixedPointSolver.Tracker.HostElements = 0;
        try
        {
            var tensors = block.InverseWithStatistics(y, options);
            var (a, b) = (host.Solves.Single().Forward, tensors.Solves.Single().Forward);
            Assert.IsFalse(a.Converged, "the cap must stop the solve early, or the best iterate is simply the last");
            Assert.AreEqual(b.Iterations, a.Iterations, "evaluations of g");
            CollectionAssert.AreEqual(b.SampleIterations.ToArray(), a.SampleIterations.ToArray(), "per-row iterations");
            for (var i = 0; i < a.SampleResiduals.Count; i++)
                Check.Close(a.SampleResiduals[i], b.SampleResiduals[i], 1e-6 * b.SampleResiduals[i], $"row {i}'s best residual");
            Check.TensorsClose(host.Input, tensors.Input, dtype == ScalarType.Float64 ? 1e-12 : 1e-6, "returned solution");
        }
        finally
        {
            FixedPointSolver.Tracker.HostElements = saved;
        }
    }

    /// <summary>
    /// The tracker keeps, per row, f(x) of that row's lowest-residual iterate. Fed by hand: row 0 is best at the first
    /// evaluation and worse after; row 1 improves at every one. Both the managed and the tensor path must return
    /// row 0 from evaluation 1 and row 1 from evaluation 3.
    /// </summary>
    [TestMethod]
    [DoNotParallelize]
    [DataRow(true)]
    [DataRow(false)]
    public void Tracker_KeepsEachRowsBestImage(bool onHost)
    {
        var saved = FixedPointSolver.Tracker.HostElements;
        FixedPointSolver.Tracker.HostElements = onHost ? saved : 0;
        try
        {
            var options = new FixedPointOptions { Tolerance = 1e-12, MaxIterations = 10 };
            var x = tensor(new float[,] { { 1, 1 }, { 1, 1 } });
            using var tracker = new FixedPointSolver.Tracker(x, options);
            // Residual ‖f(x) − x‖ / ‖f(x)‖ per row: row 0 → 0.1, 0.5, 0.9; row 1 → 0.9, 0.5, 0.1 (approximately).
            float[][] images = [[1.1f, 1.1f, 1.9f, 1.9f], [1.9f, 1.9f, 1.5f, 1.5f], [9f, 9f, 1.1f, 1.1f]];
            foreach (var image in images)
                Assert.IsFalse(tracker.Record(x, tensor(image).reshape(2, 2)), "no row can converge at 1e-12");
            Check.Identical(tracker.Best, tensor(new float[,] { { 1.1f, 1.1f }, { 1.1f, 1.1f } }), "best images");
        }
        finally
        {
            FixedPointSolver.Tracker.HostElements = saved;
        }
    }

    /// <summary>
    /// With only an absolute tolerance (relative 0, as the flows' float32 floor or a max-error user asks) the adaptive
    /// solver must predict the remaining steps from that floor, not from a zero target it can never reach: on an easy
    /// block it stays Picard, step for step.
    /// </summary>
    [TestMethod]
    public void Adaptive_WithOnlyAnAbsoluteTolerance_StaysPicardOnAnEasyBlock()
    {
        manual_seed(28);
        var block = Blocks.Random(16, 32, 0.9, ScalarType.Float32);
        var y = block.forward(randn(4, 16)).detach();
        InverseResult Solve(FixedPointSolverKind kind) => block.InverseWithStatistics(y, new ImplicitOptions
        {
            Forward = new FixedPointOptions { Solver = kind, Tolerance = 0, AbsoluteTolerance = 1e-5 },
        });
        var (picard, adaptive) = (Solve(FixedPointSolverKind.Picard), Solve(FixedPointSolverKind.Adaptive));
        Assert.IsTrue(picard.Solves.Single().Forward.Iterations >= 5, "the block must take a few steps for a switch to show");
        Assert.AreEqual(picard.Solves.Single().Forward.Iterations, adaptive.Solves.Single().Forward.Iterations, "evaluations of g");
        Check.Identical(adaptive.Input, picard.Input, "the adaptive solution (Picard's iterates, bit for bit)");
    }

    [TestMethod]
    public void Adaptive_IsPicardOnAnEasyBlock_AndAcceleratesOnTheHardOne()
    {
        int Evaluations(Invertible.Torch.Layers.ResidualBlock block, Tensor y, FixedPointSolverKind kind)
        {
            var options = new ImplicitOptions { Forward = new FixedPointOptions { Solver = kind, Tolerance = 1e-6 } };
            var solve = block.InverseWithStatistics(y, options).Solves.Single().Forward;
            Assert.IsTrue(solve.Converged, solve.ToString());
            return solve.Iterations;
        }
        manual_seed(25);
        var easy = Blocks.Random(16, 32, 0.9, ScalarType.Float64);
        var easyY = easy.forward(randn(32, 16, dtype: ScalarType.Float64)).detach();
        Assert.AreEqual(Evaluations(easy, easyY, FixedPointSolverKind.Picard), Evaluations(easy, easyY, FixedPointSolverKind.Adaptive),
            "on a fast contraction the adaptive solver never leaves Picard");

        var hard = Blocks.Aligned(16, 0.97, ScalarType.Float64);
        var hardY = hard.forward(randn(32, 16, dtype: ScalarType.Float64)).detach();
        var (picard, anderson, adaptive) = (Evaluations(hard, hardY, FixedPointSolverKind.Picard), Evaluations(hard, hardY, FixedPointSolverKind.Anderson),
            Evaluations(hard, hardY, FixedPointSolverKind.Adaptive));
        Check.AtMost(adaptive, anderson + 5, $"adaptive on the aligned block: a few Picard steps, then Anderson (Picard {picard}, Anderson {anderson})");
        Check.Less(3 * adaptive, picard, "adaptive vs Picard evaluations on the aligned block");
    }

    [TestMethod]
    public void EverySolver_CappedAtThreeIterations_ReportsNotConverged_WithTheResidualOfTheReturnedPoint()
    {
        const double tolerance = 1e-6;
        foreach (var kind in AllKinds)
        {
            manual_seed(24);
            var (f, a, b) = LinearMap(3, 8, 0.95);
            var result = FixedPointSolver.Create(new FixedPointOptions { Solver = kind, MaxIterations = 3, Tolerance = tolerance }).Solve(f, zeros(3, 8, dtype: ScalarType.Float64));
            var stats = result.Statistics;
            Assert.IsFalse(stats.Converged, kind.ToString());
            Assert.AreEqual(3, stats.Iterations, kind.ToString());
            // The solution s is f(x) at the iterate x behind the reported residual: x = A⁻¹ (s − b) (A is invertible).
            var preImage = linalg.solve(a, result.Solution.sub(b).t()).t();
            var trueResiduals = linalg.vector_norm(result.Solution.sub(preImage), 2, [1]).div(linalg.vector_norm(result.Solution, 2, [1]));
            for (var row = 0; row < 3; row++)
            {
                var expected = trueResiduals[row].ToDouble();
                Check.Close(stats.SampleResiduals[row], expected, 1e-9 * expected, $"{kind}, row {row}: reported residual vs that of the returned point's pre-image");
                Assert.IsFalse(stats.SampleConverged[row], $"{kind}, row {row}");
            }
            Check.Close(stats.RelativeResidual, trueResiduals.max().ToDouble(), 1e-9 * stats.RelativeResidual, $"{kind}: the reported residual is the worst row's");
            Check.Less(tolerance, stats.RelativeResidual, $"{kind}: a capped solve stays above its tolerance");
            var failure = Assert.ThrowsExactly<SolverNotConvergedException>(() => result.EnsureConverged("test solve", tolerance));
            StringAssert.Contains(failure.Message, "did not converge");
        }
    }

    /// <summary>
    /// A float32 inverse asked for 1e-8 relative — below float32's rounding of 6e-8 — on a stack of 12 blocks at c = 0.98
    /// with inputs up to ±10: some rows can only fluctuate around 1e-8 (without the stall rule: 3 000 iterations, stuck at 1.4e-8). The solve notices that no row improves any more, stops
    /// long before its cap of 3 000 iterations and says the tolerance is below what float32 resolves; in float64 the
    /// same solve converges.
    /// </summary>
    [TestMethod]
    public void Float32SolveBelowTheRoundingFloor_StopsAsStalled_AndSaysWhy()
    {
        manual_seed(31);
        var stack = Invertible.Torch.Flows.ResidualStack.Create(16, 12, new Invertible.Torch.Layers.ResidualBlockOptions { Coefficient = 0.98 });
        stack.eval();
        var y = rand(64, 16).mul(20).sub(10);
        var options = new ImplicitOptions { Forward = new FixedPointOptions { Tolerance = 1e-8, MaxIterations = 3000 } };
        var failure = Assert.ThrowsExactly<SolverNotConvergedException>(() => { using var _ = no_grad(); stack.Inverse(y, options); });
        Assert.IsTrue(failure.Statistics.Stalled, failure.Message);
        Check.AtMost(failure.Statistics.Iterations, 1000, "iterations of the stalled solve (the cap is 3 000)");
        StringAssert.Contains(failure.Message, "below what float32 resolves");

        stack.to(ScalarType.Float64);
        using (no_grad())
            stack.Inverse(y.to(ScalarType.Float64), options);
    }

    [TestMethod]
    public void Solution_IsTheImageOfTheLowestResidualIterate_PerRow()
    {
        // f(x) = x + δ_k on call k: the residual is ‖δ_k‖ / ‖f(x)‖, so the steps choose which call is best. Row 0 is best
        // at call 3, row 1 at call 1; the last call (6) is bad for both, so neither the last nor the last good call will do.
        double[][] steps = [[1e-3, 10, 1e-5, 10, 1e-3, 10], [1e-6, 10, 1e-3, 10, 1e-3, 10]];
        var calls = new List<(Tensor X, Tensor Fx)>();
        Tensor F(Tensor x)
        {
            var k = calls.Count;
            var fx = x.add(tensor(new[] { steps[0][k], steps[1][k] }, dtype: ScalarType.Float64).unsqueeze(1));
            // The solver disposes its tensors at the end of each iteration: keep copies outside its dispose scope.
            calls.Add((x.clone().DetachFromDisposeScope(), fx.clone().DetachFromDisposeScope()));
            return fx;
        }
        var result = new PicardSolver(new FixedPointOptions { Solver = FixedPointSolverKind.Picard, MaxIterations = 6, Tolerance = 1e-9 })
            .Solve(F, ones(2, 4, dtype: ScalarType.Float64));
        Assert.IsFalse(result.Statistics.Converged);
        Assert.AreEqual(6, calls.Count);
        for (var row = 0; row < 2; row++)
        {
            var residuals = calls.Select(c => linalg.vector_norm(c.Fx[row].sub(c.X[row]), 2, [0]).div(linalg.vector_norm(c.Fx[row], 2, [0])).ToDouble()).ToArray();
            var best = Array.IndexOf(residuals, residuals.Min());
            Assert.AreEqual(row == 0 ? 2 : 0, best, $"row {row}: the designed best call");
            Check.Identical(result.Solution[row], calls[best].Fx[row], $"row {row}: the solution is f at the lowest-residual iterate");
            Check.Close(result.Statistics.SampleResiduals[row], residuals[best], 1e-15, $"row {row}: the reported residual is that iterate's");
        }
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
