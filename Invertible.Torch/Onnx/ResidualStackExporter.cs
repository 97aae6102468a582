using Invertible.Torch.Layers;
using Onnx;
using TorchSharp;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Exports a stack of invertible residual blocks (<see cref="ResidualBlock"/> or <see cref="FusedResidualBlock"/>):
/// the forward x → y, and the inverse y → x with one fixed-point <c>Loop</c> per block.
/// </summary>
public static class ResidualStackExporter
{
    /// <summary>Forward graph: input "x" [batch, d] → output "y".</summary>
    public static ModelProto ExportForward(ResidualStack stack, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        var branches = Branches(stack);
        var g = new OnnxGraphBuilder("residual_stack_forward", options.Opset);
        var value = g.Input("x", stack.Features);
        foreach (var branch in branches.Select((mlp, i) => new OnnxResidualBranch(g, mlp, $"block{i}")))
            value = g.Add(value, branch.Emit(g, value));
        g.Output("y", value, TensorProto.Types.DataType.Float, [null, stack.Features]);
        return OnnxModelFactory.Create(g, options, "residual-stack-forward", new Dictionary<string, string>
        {
            ["input.x"] = "data rows [batch, features]",
            ["output.y"] = "y = F(x), the stack's forward map",
        });
    }

    /// <summary>
    /// Inverse graph: input "y" → outputs "x" = F⁻¹(y), "iterations" (int64 per row, summed over blocks) and
    /// "residual" (the largest final relative residual over the blocks, per row).
    /// </summary>
    public static ModelProto ExportInverse(ResidualStack stack, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        var branches = Branches(stack);
        var g = new OnnxGraphBuilder("residual_stack_inverse", options.Opset);
        var y = g.Input("y", stack.Features);
        var (x, iterations, residual) = InverseBlocks(g, y, branches.Select((mlp, i) => new OnnxResidualBranch(g, mlp, $"block{i}")).ToArray(), options);
        g.Output("x", x, TensorProto.Types.DataType.Float, [null, stack.Features]);
        g.Output("iterations", iterations, TensorProto.Types.DataType.Int64, [null]);
        g.Output("residual", residual, TensorProto.Types.DataType.Float, [null]);
        return OnnxModelFactory.Create(g, options, "residual-stack-inverse", new Dictionary<string, string>
        {
            ["input.y"] = "outputs of the forward map [batch, features]",
            ["output.x"] = "x = F⁻¹(y), block by block in reverse by fixed-point iteration",
            ["output.iterations"] = "fixed-point iterations per row, summed over the blocks",
            ["output.residual"] = "largest final relative residual over the blocks, per row (compare with the tolerance)",
        });
    }

    /// <summary>Inverts residual branches last to first; returns x, summed iterations and the worst residual per row.</summary>
    internal static (string X, string Iterations, string Residual) InverseBlocks(OnnxGraphBuilder g, string y, OnnxResidualBranch[] branches, OnnxExportOptions options)
    {
        var value = y;
        string? iterations = null, residual = null;
        for (var i = branches.Length - 1; i >= 0; i--)
        {
            var branch = branches[i];
            var target = value;
            var result = OnnxFixedPointLoop.Emit(g, target, branch.Features, (body, x) => body.Sub(target, branch.Emit(body, x)), options);
            value = result.Solution;
            iterations = iterations is null ? result.Iterations : g.Add(iterations, result.Iterations);
            residual = residual is null ? result.Residual : g.Node("Max", [residual, result.Residual]);
        }
        return (value, iterations!, residual!);
    }

    private static List<ContractiveMlp> Branches(ResidualStack stack)
    {
        ArgumentNullException.ThrowIfNull(stack);
        OnnxExportGuard.EvaluationMode(stack);
        return stack.Layers.Select((layer, i) => layer switch
        {
            ResidualBlock block => block.Residual,
            FusedResidualBlock fused => fused.Residual,
            _ => throw new NotSupportedException($"Layer {i} of the stack is a {layer.GetType().Name}; only residual blocks can be exported."),
        }).ToList();
    }
}

/// <summary>Puts a module in evaluation mode for export (converged spectral normalisation, exact log-determinants).</summary>
internal static class OnnxExportGuard
{
    public static void EvaluationMode(torch.nn.Module module)
    {
        if (module.training)
            module.eval();
    }
}
