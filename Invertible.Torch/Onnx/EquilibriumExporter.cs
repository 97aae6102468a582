using Invertible.Torch.Core;
using Invertible.Torch.Equilibrium;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Exports an <see cref="EquilibriumNetwork"/>: projection, the equilibrium solve as a fixed-point <c>Loop</c> (per-row
/// freezing and the forward solver's stopping rule; the contractive cell's own map, the monotone cell's equilibrium by
/// Peaceman–Rachford splitting, which converges for every trained monotone cell), and the head.
/// </summary>
public static class EquilibriumExporter
{
    /// <summary>
    /// Graph: input "x" [batch, features] → "scores" [batch, outputs]; multiclass adds "probabilities" (softmax) and
    /// "predicted_label" (int64), binary adds "probability" [batch]; always "iterations", "residual" and "converged" per row.
    /// </summary>
    public static ModelProto Export(EquilibriumNetwork network, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(network);
        using var mode = OnnxExportGuard.EvaluationMode(network);
        using var _ = no_grad();
        var loop = options.Loop(network.Layer.Options.Forward);
        var g = new OnnxGraphBuilder("equilibrium_network", options.Opset);
        var metadata = new Dictionary<string, string>
        {
            ["input.x"] = "feature rows [batch, features]",
            ["output.iterations"] = "fixed-point iterations of the equilibrium solve, per row",
            ["output.residual"] = "final residual of the equilibrium solve, per row: ‖f(z) − z‖ / (‖f(z)‖ + absolute_tolerance / tolerance), at most the tolerance exactly where converged",
            ["output.converged"] = "whether the equilibrium solve met the stopping rule for the row",
        };
        var function = network.Layer.Function;
        var cell = EquilibriumCellEmitters.For(function, g);
        var x = g.Input("x", network.InputFeatures);
        var injection = cell.EmitInjection(g, network.Projection is { } projection ? g.Linear(x, projection.weight!, projection.bias, "projection") : x);
        var start = g.ZerosLike(injection, function.StateFeatures, function.StateFeatures);
        var solve = OnnxFixedPointLoop.Emit(g, start, function.StateFeatures, (body, z) => cell.EmitMap(body, z, injection), loop);
        var scores = g.Linear(EmitHeadFeatures(g, network, cell.EmitState(g, solve.Solution)), network.Head.weight!, network.Head.bias, "head");
        if (network.Skip is { } skip)
            scores = g.Add(scores, g.Linear(x, skip.weight!, skip.bias, "skip"));
        SupervisedGraph.EmitOutputs(g, scores, network.Task, network.Outputs, metadata);
        OnnxModelFactory.SolverOutputs(g, solve.Iterations, solve.Residual, solve.Converged);
        return OnnxModelFactory.Create(g, options, "equilibrium-" + network.Task.ToString().ToLowerInvariant(), loop, metadata);
    }

    /// <summary><see cref="EquilibriumNetwork.HeadFeatures"/>: the state, or on images its feature maps average-pooled.</summary>
    private static string EmitHeadFeatures(OnnxGraphBuilder g, EquilibriumNetwork network, string state)
    {
        if (network.Layer.Function is not ConvolutionalMonotoneCell cell || network.Pooling == 1)
            return state;
        var (image, p) = (cell.State, network.Pooling);
        var maps = g.Node("Reshape", [state, g.Int64("state_image", -1, image.Channels, image.Height, image.Width)]);
        var pooled = g.Node("AveragePool", [maps], null, OnnxGraphBuilder.Attribute("kernel_shape", [p, p]), OnnxGraphBuilder.Attribute("strides", [p, p]));
        return g.Node("Reshape", [pooled, g.Int64("pooled_rows", -1, image.Channels * (image.Height / p) * (image.Width / p))]);
    }
}
