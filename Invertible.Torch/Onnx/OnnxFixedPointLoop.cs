using Invertible.Torch.Core;
using Invertible.Torch.Solvers;
using Onnx;

namespace Invertible.Torch.Onnx;

/// <summary>
/// A fixed-point iteration x ← f(x) as an ONNX <c>Loop</c> with the TorchSharp solvers' per-row stopping rule: a row
/// whose ‖f(x) − x‖ ≤ tol · ‖f(x)‖ + abs is frozen (at f(x), as the solvers return), so a row's result does not depend
/// on the other rows of its batch. The loop stops when every row is frozen or at the iteration cap.
/// </summary>
internal static class OnnxFixedPointLoop
{
    /// <summary>The loop's results per row: solution [batch, n], iterations (int64), the last residual in the rule's units
    /// (<see cref="ResidualMeasure"/>: ‖f(x) − x‖ / (‖f(x)‖ + abs / tol)) and whether the row met the rule (bool).</summary>
    public readonly record struct Result(string Solution, string Iterations, string Residual, string Converged);

    /// <param name="g">The enclosing graph.</param>
    /// <param name="initial">x₀, [batch, n].</param>
    /// <param name="features">n.</param>
    /// <param name="map">Emits f(x) into the loop body (it may read any value of the enclosing graphs).</param>
    /// <param name="loop">Stopping rule and iteration cap.</param>
    public static Result Emit(OnnxGraphBuilder g, string initial, int features, Func<OnnxGraphBuilder, string, string> map, LoopSettings loop)
    {
        var anderson = loop.Solver == OnnxLoopSolver.Anderson;
        // Per-row state is carried as [batch, 1] so it broadcasts against the rows without an Unsqueeze per iteration.
        var zeros = g.ZerosLike(initial, features, 1);
        var done0 = g.Cast(zeros, TensorProto.Types.DataType.Bool);
        var iterations0 = g.Cast(zeros, TensorProto.Types.DataType.Int64);

        var body = g.Subgraph("fixed_point_body");
        var iteration = body.Fresh("iteration");
        body.ScalarInput(iteration, TensorProto.Types.DataType.Int64);
        body.ScalarInput(body.Fresh("condition"), TensorProto.Types.DataType.Bool);
        var x = body.OpenInput(body.Fresh("x"), TensorProto.Types.DataType.Float);
        var done = body.OpenInput(body.Fresh("done"), TensorProto.Types.DataType.Bool);
        var iterations = body.OpenInput(body.Fresh("iterations"), TensorProto.Types.DataType.Int64);
        var residual = body.OpenInput(body.Fresh("residual"), TensorProto.Types.DataType.Float);
        var (fPrevious, rPrevious) = anderson
            ? (body.OpenInput(body.Fresh("f_previous"), TensorProto.Types.DataType.Float), body.OpenInput(body.Fresh("r_previous"), TensorProto.Types.DataType.Float))
            : (null, null);

        // Every operator here runs once per iteration, and at batch 1 each costs about as much as a small product: few of
        // them. The test compares squares (‖r‖² ≤ bound², no square root), the reported residual is formed once after the
        // loop, and a pure absolute rule (Tolerance 0) needs no norm of f(x) inside it.
        var fx = map(body, x);
        var r = body.Sub(fx, x);
        var rr = body.Reduce("ReduceSumSquare", r, 1, keepDims: true);
        string boundSquared;
        if (loop.Tolerance == 0)
            boundSquared = body.Scalar((float)(loop.AbsoluteTolerance * loop.AbsoluteTolerance), "absolute_tolerance_squared");
        else
        {
            var scale = body.Reduce("ReduceL2", fx, 1, keepDims: true);
            var bound = body.Add(body.Mul(scale, body.Scalar((float)loop.Tolerance, "tolerance")), body.Scalar((float)loop.AbsoluteTolerance, "absolute_tolerance"));
            boundSquared = body.Mul(bound, bound);
        }
        var converged = body.Node("LessOrEqual", [rr, boundSquared]);
        var next = anderson ? body.Node("Where", [converged, fx, AndersonStep(body, fx, r, rr, fPrevious!, rPrevious!, residual)]) : fx;
        var xOut = body.Node("Where", [done, x, next]);
        var residualOut = body.Node("Where", [done, residual, rr]);
        // The 0-based index of a row's last iteration (the loop's own counter); one is added once, after the loop.
        var iterationsOut = body.Node("Where", [done, iterations, iteration]);
        var doneOut = body.Node("Or", [done, converged]);
        var allDone = body.Node("ReduceMin", [body.Cast(doneOut, TensorProto.Types.DataType.Float)], null, OnnxGraphBuilder.Attribute("keepdims", 0L));
        var keepGoing = body.Node("Less", [allDone, body.Scalar(0.5f, "half")]);
        body.OpenOutput(keepGoing, TensorProto.Types.DataType.Bool);
        body.OpenOutput(xOut, TensorProto.Types.DataType.Float);
        body.OpenOutput(doneOut, TensorProto.Types.DataType.Bool);
        body.OpenOutput(iterationsOut, TensorProto.Types.DataType.Int64);
        body.OpenOutput(residualOut, TensorProto.Types.DataType.Float);
        if (anderson)
        {
            body.OpenOutput(fx, TensorProto.Types.DataType.Float);
            body.OpenOutput(r, TensorProto.Types.DataType.Float);
        }

        // Anderson's history starts infinitely far away: r of "iteration −1" is a huge constant R (and its carried ‖r‖² is
        // 0), so γ ≈ −Σr / (n R) vanishes below float32's rounding and the first step is f(x₀) exactly, without a
        // per-iteration test.
        var nothing = g.ZerosLike(initial, features, features);
        string[] carried = anderson
            ? [initial, done0, iterations0, zeros, nothing, g.Add(nothing, g.Scalar(AndersonFarHistory, "anderson_far_history"))]
            : [initial, done0, iterations0, zeros];
        var outputs = g.Node("Loop",
            [g.Int64Scalar("max_iterations", loop.MaxIterations), g.BoolScalar("start", true), .. carried],
            carried.Length, null, OnnxGraphBuilder.Attribute("body", body.Build()));
        var column = g.Int64("axis1", 1);
        string Rows(string value) => g.Node("Squeeze", [value, column]);
        // ‖f(x)‖ of each row's last iteration: the solution itself where the row converged (frozen at f(x)), and for a
        // row stopped by the cap, f(x) itself (Anderson's solution there is its mixed step, carried f(x) beside it).
        var image = anderson ? g.Node("Where", [outputs[1], outputs[0], outputs[4]]) : outputs[0];
        // The residual in the stopping rule's units (Solvers.ResidualMeasure): at most the tolerance exactly for the rows the loop froze.
        var floor = (float)ResidualMeasure.FloorScale(loop.Tolerance, loop.AbsoluteTolerance) + 1e-30f;
        var relative = g.Div(g.Node("Sqrt", [outputs[3]]), g.Add(g.Reduce("ReduceL2", image, 1, keepDims: true), g.Scalar(floor, "residual_floor")));
        return new Result(outputs[0], g.Add(Rows(outputs[2]), g.Int64Scalar("one", 1)), Rows(relative), Rows(outputs[1]));
    }

    /// <summary>
    /// Every entry R of Anderson's initial "previous residual": γ₀ ≈ −mean(r) / R is below float32's 2⁻²⁵ for
    /// |r| ≲ 3 · 10¹⁰; from ~340 features on, n R² overflows to ∞ and γ₀ = 0 exactly — a Picard step either way.
    /// </summary>
    internal const float AndersonFarHistory = 1e18f;

    /// <summary>
    /// The next iterate of <see cref="AndersonSolver"/> with memory 2 and mixing β = 1, in closed form: with the last two
    /// residuals r_p, r and Δr = r − r_p, the bordered system's weights (γ on the previous iterate, 1 − γ on the newest)
    /// minimise ‖r − γ Δr‖² + λ s (γ² + (1 − γ)²) with s = max(‖r‖², ‖r_p‖²), so
    /// γ = (⟨Δr, r⟩ + λ s) / (‖Δr‖² + 2 λ s) and x ← f(x) − γ (f(x) − f_p). λ is <see cref="FixedPointOptions.Defaults.AndersonRegularization"/>.
    /// ‖r_p‖² is the carried residual of the row's previous iteration. Where both vanish the row has converged, and the
    /// loop takes f(x) instead of this step.
    /// </summary>
    private static string AndersonStep(OnnxGraphBuilder body, string fx, string r, string rr, string fPrevious, string rPrevious, string rrPrevious)
    {
        const float lambda = (float)FixedPointOptions.Defaults.AndersonRegularization;
        var dr = body.Sub(r, rPrevious);
        var largest = body.Node("Max", [rr, rrPrevious]);
        var numerator = body.Add(body.Reduce("ReduceSum", body.Mul(dr, r), 1, keepDims: true), body.Mul(largest, body.Scalar(lambda, "anderson_lambda")));
        var denominator = body.Add(body.Reduce("ReduceSumSquare", dr, 1, keepDims: true), body.Mul(largest, body.Scalar(2 * lambda, "anderson_two_lambda")));
        var gamma = body.Div(numerator, denominator);
        return body.Sub(fx, body.Mul(gamma, body.Sub(fx, fPrevious)));
    }
}
