using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Exports an <see cref="IInvertibleDensityModel"/> (an <see cref="InvertibleResNetFlow"/>, a residual stack): the forward
/// graph gives the latent code and a deterministic log-likelihood per row, so an anomaly-scoring service needs nothing
/// but ONNX Runtime; the inverse graph maps latent codes to data with one fixed-point <c>Loop</c> per residual block.
/// </summary>
/// <remarks>Every layer is written by its own emitter; each residual block's log-determinant follows its
/// <c>EvaluationLogDet</c> (stochastic estimators export as the exact <c>Det</c>: a deployed score must be deterministic).
/// The model is exported in evaluation mode and returned to the caller's mode afterwards.</remarks>
public static class FlowExporter
{
    /// <summary>Forward graph: input "x" [batch, d] → "latent" [batch, d], "log_likelihood" [batch] (nats) and
    /// "bits_per_dimension" [batch].</summary>
    public static ModelProto ExportForward(IInvertibleDensityModel model, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(model);
        using var mode = OnnxExportGuard.EvaluationMode(model);
        using var _ = no_grad();
        var d = model.Features;
        var g = new OnnxGraphBuilder("flow_forward", options.Opset);
        var (latent, logDet) = new InvertibleGraph(g, model).EmitForward(g, g.Input("x", d), withLogDet: true);
        var logLikelihood = g.Add(StandardNormal.LogProb(new OnnxAlgebra(g), latent, d), logDet!);
        g.Output("latent", latent, TensorProto.Types.DataType.Float, [null, d]);
        g.Output("log_likelihood", logLikelihood, TensorProto.Types.DataType.Float, [null]);
        g.Output("bits_per_dimension", StandardNormal.BitsPerDimension(new OnnxAlgebra(g), logLikelihood, d), TensorProto.Types.DataType.Float, [null]);
        return OnnxModelFactory.Create(g, options, "flow-forward", null, new Dictionary<string, string>
        {
            ["output.bits_per_dimension"] = "−log p(x) / (d ln 2) per row",
            ["input.x"] = "data rows [batch, features]",
            ["output.latent"] = "z = F(x), standard normal under the model",
            ["output.log_likelihood"] = "log p(x) in nats per row: log N(z; 0, I) + log|det J_F(x)| (each block's evaluation log-determinant)",
        });
    }

    /// <summary>
    /// Anomaly-scoring graph: input "x" [batch, d] → "score" = −log p(x) [batch] (nats; larger is more anomalous) and
    /// "is_anomaly" = score &gt; <paramref name="threshold"/> (bool [batch]).
    /// </summary>
    public static ModelProto ExportAnomalyScore(IInvertibleDensityModel model, double threshold, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(model);
        using var mode = OnnxExportGuard.EvaluationMode(model);
        using var _ = no_grad();
        var d = model.Features;
        var g = new OnnxGraphBuilder("flow_anomaly_score", options.Opset);
        var (latent, logDet) = new InvertibleGraph(g, model).EmitForward(g, g.Input("x", d), withLogDet: true);
        var score = g.Node("Neg", [g.Add(StandardNormal.LogProb(new OnnxAlgebra(g), latent, d), logDet!)]);
        g.Output("score", score, TensorProto.Types.DataType.Float, [null]);
        g.Output("is_anomaly", g.Node("Greater", [score, g.Scalar((float)threshold, "threshold")]), TensorProto.Types.DataType.Bool, [null]);
        return OnnxModelFactory.Create(g, options, "flow-anomaly", null, new Dictionary<string, string>
        {
            ["input.x"] = "data rows [batch, features]",
            ["output.score"] = "−log p(x) in nats per row: larger is more anomalous",
            ["output.is_anomaly"] = "whether the score exceeds the threshold",
            ["threshold"] = threshold.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    /// <summary>
    /// Inverse graph: input "latent" → "x" = F⁻¹(z), and per row "iterations" (summed over the blocks), "residual" (the
    /// worst block's final residual in the stopping rule's units) and "converged" (every block met the stopping rule).
    /// </summary>
    public static ModelProto ExportInverse(IInvertibleDensityModel model, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(model);
        using var mode = OnnxExportGuard.EvaluationMode(model);
        using var _ = no_grad();
        var d = model.Features;
        var loop = options.Loop(model.DefaultInverseOptions.Forward);
        var g = new OnnxGraphBuilder("flow_inverse", options.Opset);
        var (x, iterations, residual, converged) = new InvertibleGraph(g, model).EmitInverse(g, g.Input("latent", d), loop);
        g.Output("x", x, TensorProto.Types.DataType.Float, [null, d]);
        OnnxModelFactory.SolverOutputs(g, iterations, residual, converged);
        return OnnxModelFactory.Create(g, options, "flow-inverse", loop, new Dictionary<string, string>
        {
            ["input.latent"] = "latent codes [batch, features] (standard normal draws give samples)",
            ["output.x"] = "x = F⁻¹(z)",
            ["output.iterations"] = "fixed-point iterations per row, summed over the blocks",
            ["output.residual"] = "largest final residual over the blocks, per row: ‖f(x) − x‖ / (‖f(x)‖ + absolute_tolerance / tolerance), at most the tolerance exactly where converged",
            ["output.converged"] = "whether every block's loop met the stopping rule for the row",
        });
    }
}
