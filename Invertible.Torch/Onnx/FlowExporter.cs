using Invertible.Torch.Flows;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Exports an <see cref="InvertibleResNetFlow"/>: the forward graph gives the latent code and a deterministic
/// log-likelihood per row (analytic per-row Jacobians of each block and <c>Det</c>), so an anomaly-scoring service
/// needs nothing but ONNX Runtime; the inverse graph maps latent codes to data with one fixed-point <c>Loop</c> per block.
/// </summary>
public static class FlowExporter
{
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>Forward graph: input "x" [batch, d] → "latent" [batch, d] and "log_likelihood" [batch] (nats).</summary>
    public static ModelProto ExportForward(InvertibleResNetFlow flow, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(flow);
        OnnxExportGuard.EvaluationMode(flow);
        var d = flow.Features;
        var g = new OnnxGraphBuilder("flow_forward", options.Opset);
        var value = g.Input("x", d);
        var constantLogDet = 0.0;
        string? logDet = null;
        using (no_grad())
        {
            foreach (var (layer, i) in flow.Layers.Select((l, i) => (l, i)))
            {
                switch (layer)
                {
                    case ActNorm actNorm:
                        var (bias, logScale) = ActNormParameters(actNorm);
                        value = g.Mul(g.Add(value, g.Initializer($"actnorm{i}_bias", bias)), g.Initializer($"actnorm{i}_scale", logScale.exp()));
                        constantLogDet += logScale.sum().ToDouble();
                        break;
                    case InvertibleLinear linear:
                        value = g.MatMul(value, g.Initializer($"linear{i}_weight_t", linear.Weight().t()));
                        constantLogDet += linear.Forward(zeros(1, d, dtype: linear.Weight().dtype)).LogDet.ToDouble();
                        break;
                    case ResidualFlowBlock block:
                        var branch = new OnnxResidualBranch(g, block.Block.Residual, $"block{i}");
                        var jacobian = branch.EmitJacobian(g, value);
                        var blockLogDet = g.Node("Log", [g.Node("Abs", [g.Node("Det", [g.Add(jacobian, g.Initializer("identity", eye(d)))])])]);
                        logDet = logDet is null ? blockLogDet : g.Add(logDet, blockLogDet);
                        value = g.Add(value, branch.Emit(g, value));
                        break;
                    default:
                        throw new NotSupportedException($"Flow layer {i} is a {layer.GetType().Name}, which the exporter does not know.");
                }
            }
        }
        var baseLogProb = g.Sub(g.Mul(g.Node("ReduceSum", [g.Mul(value, value), g.Int64("axis1", 1)], null, OnnxGraphBuilder.Attribute("keepdims", 0L)), g.Scalar(-0.5f, "minus_half")),
            g.Scalar((float)(HalfLogTwoPi * d), "normalizer"));
        var logLikelihood = g.Add(baseLogProb, g.Scalar((float)constantLogDet, "constant_logdet"));
        if (logDet is not null)
            logLikelihood = g.Add(logLikelihood, logDet);
        g.Output("latent", value, TensorProto.Types.DataType.Float, [null, d]);
        g.Output("log_likelihood", logLikelihood, TensorProto.Types.DataType.Float, [null]);
        return OnnxModelFactory.Create(g, options, "flow-forward", new Dictionary<string, string>
        {
            ["input.x"] = "data rows [batch, features]",
            ["output.latent"] = "z = F(x), standard normal under the model",
            ["output.log_likelihood"] = "log p(x) in nats per row: log N(z; 0, I) + log|det J_F(x)| (exact, by Det of each block's Jacobian)",
        });
    }

    /// <summary>Inverse graph: input "latent" → "x" = F⁻¹(z), "iterations" (per row) and "residual" (worst block, per row).</summary>
    public static ModelProto ExportInverse(InvertibleResNetFlow flow, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(flow);
        OnnxExportGuard.EvaluationMode(flow);
        var d = flow.Features;
        var g = new OnnxGraphBuilder("flow_inverse", options.Opset);
        var value = g.Input("latent", d);
        string? iterations = null, residual = null;
        using (no_grad())
        {
            var layers = flow.Layers.Select((l, i) => (Layer: l, Index: i)).Reverse();
            foreach (var (layer, i) in layers)
            {
                switch (layer)
                {
                    case ActNorm actNorm:
                        var (bias, logScale) = ActNormParameters(actNorm);
                        value = g.Sub(g.Mul(value, g.Initializer($"actnorm{i}_inverse_scale", logScale.neg().exp())), g.Initializer($"actnorm{i}_bias", bias));
                        break;
                    case InvertibleLinear linear:
                        var inverse = linalg.inv(linear.Weight().to(ScalarType.Float64));
                        value = g.MatMul(value, g.Initializer($"linear{i}_inverse_t", inverse.t()));
                        break;
                    case ResidualFlowBlock block:
                        var (x, blockIterations, blockResidual) = ResidualStackExporter.InverseBlocks(g, value, [new OnnxResidualBranch(g, block.Block.Residual, $"block{i}")], options);
                        value = x;
                        iterations = iterations is null ? blockIterations : g.Add(iterations, blockIterations);
                        residual = residual is null ? blockResidual : g.Node("Max", [residual, blockResidual]);
                        break;
                    default:
                        throw new NotSupportedException($"Flow layer {i} is a {layer.GetType().Name}, which the exporter does not know.");
                }
            }
        }
        iterations ??= g.Cast(g.ZerosPerRow(value, d), TensorProto.Types.DataType.Int64);
        residual ??= g.ZerosPerRow(value, d);
        g.Output("x", value, TensorProto.Types.DataType.Float, [null, d]);
        g.Output("iterations", iterations, TensorProto.Types.DataType.Int64, [null]);
        g.Output("residual", residual, TensorProto.Types.DataType.Float, [null]);
        return OnnxModelFactory.Create(g, options, "flow-inverse", new Dictionary<string, string>
        {
            ["input.latent"] = "latent codes [batch, features] (standard normal draws give samples)",
            ["output.x"] = "x = F⁻¹(z)",
            ["output.iterations"] = "fixed-point iterations per row, summed over the blocks",
            ["output.residual"] = "largest final relative residual over the blocks, per row (compare with the tolerance)",
        });
    }

    private static (Tensor Bias, Tensor LogScale) ActNormParameters(ActNorm layer)
    {
        var parameters = layer.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        return (parameters["bias"].detach(), parameters["logScale"].detach());
    }
}
