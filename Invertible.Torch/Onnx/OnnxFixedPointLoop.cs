using Onnx;

namespace Invertible.Torch.Onnx;

/// <summary>
/// A fixed-point iteration x ← f(x) as an ONNX <c>Loop</c> with the TorchSharp solvers' per-row stopping rule: a row
/// whose ‖f(x) − x‖ ≤ tol · ‖f(x)‖ + abs is frozen (at f(x), as the solvers return), so a row's result does not depend
/// on the other rows of its batch. The loop stops when every row is frozen or at the iteration cap.
/// </summary>
internal static class OnnxFixedPointLoop
{
    /// <summary>The loop's results per row: solution [batch, n], iterations (int64), the last relative residual
    /// ‖f(x) − x‖ / ‖f(x)‖ and whether the row met the rule (bool).</summary>
    public readonly record struct Result(string Solution, string Iterations, string Residual, string Converged);

    /// <param name="g">The enclosing graph.</param>
    /// <param name="initial">x₀, [batch, n].</param>
    /// <param name="features">n.</param>
    /// <param name="map">Emits f(x) into the loop body (it may read any value of the enclosing graphs).</param>
    /// <param name="loop">Stopping rule and iteration cap.</param>
    public static Result Emit(OnnxGraphBuilder g, string initial, int features, Func<OnnxGraphBuilder, string, string> map, LoopSettings loop)
    {
        var zeros = g.ZerosPerRow(initial, features);
        var done0 = g.Cast(zeros, TensorProto.Types.DataType.Bool);
        var iterations0 = g.Cast(zeros, TensorProto.Types.DataType.Int64);

        var body = g.Subgraph("fixed_point_body");
        body.ScalarInput(body.Fresh("iteration"), TensorProto.Types.DataType.Int64);
        body.ScalarInput(body.Fresh("condition"), TensorProto.Types.DataType.Bool);
        var x = body.OpenInput(body.Fresh("x"), TensorProto.Types.DataType.Float);
        var done = body.OpenInput(body.Fresh("done"), TensorProto.Types.DataType.Bool);
        var iterations = body.OpenInput(body.Fresh("iterations"), TensorProto.Types.DataType.Int64);
        var residual = body.OpenInput(body.Fresh("residual"), TensorProto.Types.DataType.Float);

        var fx = map(body, x);
        var absolute = body.RowNorm(body.Sub(fx, x));
        var scale = body.RowNorm(fx);
        var relative = body.Div(absolute, body.Add(scale, body.Scalar(1e-30f, "tiny")));
        var bound = body.Add(body.Mul(scale, body.Scalar((float)loop.Tolerance, "tolerance")), body.Scalar((float)loop.AbsoluteTolerance, "absolute_tolerance"));
        var converged = body.Node("LessOrEqual", [absolute, bound]);
        var active = body.Node("Not", [done]);
        var xOut = body.Node("Where", [body.Unsqueeze(done, 1), x, fx]);
        var residualOut = body.Node("Where", [done, residual, relative]);
        var iterationsOut = body.Add(iterations, body.Cast(active, TensorProto.Types.DataType.Int64));
        var doneOut = body.Node("Or", [done, converged]);
        var anyActive = body.Node("ReduceMax", [body.Cast(body.Node("Not", [doneOut]), TensorProto.Types.DataType.Float)], null,
            OnnxGraphBuilder.Attribute("keepdims", 0L));
        var keepGoing = body.Node("Greater", [anyActive, body.Scalar(0.5f, "half")]);
        body.OpenOutput(keepGoing, TensorProto.Types.DataType.Bool);
        body.OpenOutput(xOut, TensorProto.Types.DataType.Float);
        body.OpenOutput(doneOut, TensorProto.Types.DataType.Bool);
        body.OpenOutput(iterationsOut, TensorProto.Types.DataType.Int64);
        body.OpenOutput(residualOut, TensorProto.Types.DataType.Float);

        var outputs = g.Node("Loop",
            [g.Int64Scalar("max_iterations", loop.MaxIterations), g.BoolScalar("start", true), initial, done0, iterations0, zeros],
            4, null, OnnxGraphBuilder.Attribute("body", body.Build()));
        return new Result(outputs[0], outputs[2], outputs[3], outputs[1]);
    }
}
