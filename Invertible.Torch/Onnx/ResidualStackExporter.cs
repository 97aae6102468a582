using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Exports a <see cref="ResidualStack"/> as a plain bijection: the forward x → y, and the inverse y → x with one
/// fixed-point <c>Loop</c> per residual block (for log-likelihoods use <see cref="FlowExporter"/>).
/// </summary>
public static class ResidualStackExporter
{
    /// <summary>Forward graph: input "x" [batch, d] → output "y".</summary>
    public static ModelProto ExportForward(ResidualStack stack, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(stack);
        using var mode = OnnxExportGuard.EvaluationMode(stack);
        using var _ = no_grad();
        var g = new OnnxGraphBuilder("residual_stack_forward", options.Opset);
        var (y, _) = new InvertibleGraph(g, stack).EmitForward(g, g.Input("x", stack.Features), withLogDet: false);
        g.Output("y", y, TensorProto.Types.DataType.Float, [null, stack.Features]);
        return OnnxModelFactory.Create(g, options, "residual-stack-forward", null, new Dictionary<string, string>
        {
            ["input.x"] = "data rows [batch, features]",
            ["output.y"] = "y = F(x), the stack's forward map",
        });
    }

    /// <summary>
    /// Inverse graph: input "y" → outputs "x" = F⁻¹(y), and per row "iterations" (int64, summed over blocks), "residual"
    /// (the largest final residual over the blocks, in the stopping rule's units) and "converged".
    /// </summary>
    public static ModelProto ExportInverse(ResidualStack stack, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(stack);
        using var mode = OnnxExportGuard.EvaluationMode(stack);
        using var _ = no_grad();
        var loop = options.Loop(stack.DefaultInverseOptions.Forward);
        var g = new OnnxGraphBuilder("residual_stack_inverse", options.Opset);
        var (x, iterations, residual, converged) = new InvertibleGraph(g, stack).EmitInverse(g, g.Input("y", stack.Features), loop);
        g.Output("x", x, TensorProto.Types.DataType.Float, [null, stack.Features]);
        OnnxModelFactory.SolverOutputs(g, iterations, residual, converged);
        return OnnxModelFactory.Create(g, options, "residual-stack-inverse", loop, new Dictionary<string, string>
        {
            ["input.y"] = "outputs of the forward map [batch, features]",
            ["output.x"] = "x = F⁻¹(y), block by block in reverse by fixed-point iteration",
            ["output.iterations"] = "fixed-point iterations per row, summed over the blocks",
            ["output.residual"] = "largest final residual over the blocks, per row: ‖f(x) − x‖ / (‖f(x)‖ + absolute_tolerance / tolerance), at most the tolerance exactly where converged",
            ["output.converged"] = "whether every block's loop met the stopping rule for the row",
        });
    }
}
