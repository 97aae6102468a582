using Invertible.Torch.Equilibrium;
using Invertible.Torch.Lipschitz;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Exports an <see cref="EquilibriumNetwork"/>: projection, the equilibrium solve as a fixed-point <c>Loop</c> (Picard
/// iteration with per-row freezing, which converges for the contractive and the monotone cells), and the head.
/// </summary>
public static class EquilibriumExporter
{
    /// <summary>
    /// Graph: input "x" [batch, features] → "scores" [batch, outputs]; multiclass adds "probabilities" (softmax) and
    /// "predicted_label" (int64), binary adds "probability" [batch]; always "iterations" and "residual" per row.
    /// </summary>
    public static ModelProto Export(EquilibriumNetwork network, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(network);
        OnnxExportGuard.EvaluationMode(network);
        var g = new OnnxGraphBuilder("equilibrium_network", options.Opset);
        var x = g.Input("x", network.InputFeatures);
        var metadata = new Dictionary<string, string>
        {
            ["input.x"] = "feature rows [batch, features]",
            ["output.scores"] = network.Task == EquilibriumTask.Regression ? "predicted values" : "logits",
            ["output.iterations"] = "fixed-point iterations of the equilibrium solve, per row",
            ["output.residual"] = "final relative residual of the equilibrium solve, per row (compare with the tolerance)",
            ["task"] = network.Task.ToString(),
        };
        using (no_grad())
        {
            var injected = g.Linear(x, network.Projection.weight!, network.Projection.bias, "projection");
            var function = network.Layer.Function;
            var parameters = function.EffectiveParameters().Select(p => p.detach()).ToArray();
            // The injection term U u + b is constant during the solve: computed once, outside the loop.
            var constant = g.Linear(injected, parameters[1], parameters[2], "injection");
            var recurrentT = g.Initializer("recurrent_weight_t", parameters[0].t());
            Func<OnnxGraphBuilder, string, string> map = function switch
            {
                EquilibriumCell cell => (body, z) => body.Activation(body.Add(body.MatMul(z, recurrentT), constant), cell.Activation,
                    cell.Activation == LipschitzActivation.LipSwish ? nn.functional.softplus(parameters[3]).ToDouble() : 1.0),
                MonotoneCell monotone => (body, z) => body.Node("Relu", [body.Add(body.Mul(z, body.Scalar((float)(1 - monotone.Step), "keep")),
                    body.Mul(body.Add(body.MatMul(z, recurrentT), constant), body.Scalar((float)monotone.Step, "step")))]),
                _ => throw new NotSupportedException($"The equilibrium function is a {function.GetType().Name}; only EquilibriumCell and MonotoneCell can be exported."),
            };
            var solve = OnnxFixedPointLoop.Emit(g, g.ZerosLike(x, network.InputFeatures, function.StateFeatures), function.StateFeatures, map, options);
            var scores = g.Linear(solve.Solution, network.Head.weight!, network.Head.bias, "head");
            g.Output("scores", scores, TensorProto.Types.DataType.Float, [null, network.Outputs]);
            switch (network.Task)
            {
                case EquilibriumTask.MulticlassClassification:
                    g.Output("probabilities", g.Node("Softmax", [scores], null, OnnxGraphBuilder.Attribute("axis", 1L)), TensorProto.Types.DataType.Float, [null, network.Outputs]);
                    g.Output("predicted_label", g.Node("ArgMax", [scores], null, OnnxGraphBuilder.Attribute("axis", 1L), OnnxGraphBuilder.Attribute("keepdims", 0L)),
                        TensorProto.Types.DataType.Int64, [null]);
                    metadata["output.probabilities"] = "softmax of the scores";
                    metadata["output.predicted_label"] = "index of the largest score";
                    break;
                case EquilibriumTask.BinaryClassification:
                    g.Output("probability", g.Node("Sigmoid", [g.Node("Squeeze", [scores, g.Int64("axes", 1)])]), TensorProto.Types.DataType.Float, [null]);
                    metadata["output.probability"] = "probability of the positive class";
                    break;
            }
            g.Output("iterations", solve.Iterations, TensorProto.Types.DataType.Int64, [null]);
            g.Output("residual", solve.Residual, TensorProto.Types.DataType.Float, [null]);
        }
        return OnnxModelFactory.Create(g, options, "equilibrium-" + network.Task.ToString().ToLowerInvariant(), metadata);
    }
}
