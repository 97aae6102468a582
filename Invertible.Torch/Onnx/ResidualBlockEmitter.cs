using Invertible.Torch.Core;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.LogDet;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// An invertible residual block y = x + g(x) (<see cref="ResidualBlockBase"/>, generic or fused): g's effective weights
/// as evaluation mode computes them; log|det(I + J_g(x))| per row as the block's <see cref="ResidualBlockBase.EvaluationLogDet"/>
/// says — <c>Det</c> of the analytic Jacobian for <see cref="LogDetMethod.Exact"/>, the truncated series with exact traces
/// for <see cref="LogDetMethod.ExactTraceSeries"/>, and <c>Det</c> for the stochastic estimators too, because a
/// deployed score must be deterministic; the inverse is a fixed-point loop x ← y − g(x).
/// </summary>
internal sealed class ResidualBlockEmitter : IInvertibleLayerEmitter
{
    // Unfolded layers, for the Jacobian of the log-determinant: their initializers are created on first use, so a graph
    // without a log-determinant carries none (ONNX Runtime warns about unused initializers).
    private readonly List<(Lazy<string> WeightT, Lazy<string> Bias, Tensor Weight)> linears = [];
    private readonly List<(LipschitzActivationMath Math, double? Beta)> activations = [];
    private readonly List<(string Weight, string? Bias, LipschitzActivationMath? Activation)> folded = [];
    private readonly LogDetOptions logDet;
    private readonly OnnxGraphBuilder top;
    private readonly int features;

    public ResidualBlockEmitter(ResidualBlockBase block, OnnxGraphBuilder top, string stem)
    {
        (this.top, features, logDet) = (top, block.Features, block.EvaluationLogDet);
        using var _ = no_grad();
        foreach (var layer in block.Residual.Layers)
        {
            switch (layer)
            {
                case SpectralNormLinear linear:
                    var weight = linear.EffectiveWeight().detach();
                    var (index, bias) = (linears.Count, linear.Bias!.detach());
                    linears.Add((new(() => top.Initializer($"{stem}_w{index}_t", weight.t())), new(() => top.Initializer($"{stem}_b{index}", bias)), weight));
                    break;
                case IElementwiseActivation activation:
                    activations.Add((activation.Math, activation.Beta(activation.EffectiveParameters().ToArray())?.ReadDouble()));
                    break;
            }
        }
        // The map iterated by the inverse loop uses the folded form: Gemm, one activation, Gemm (fewest nodes per iteration).
        var form = block.Residual.Folded();
        for (var i = 0; i < form.Weights.Count; i++)
            folded.Add((top.Initializer($"{stem}_folded_w{i}", form.Weights[i]), form.Biases[i] is { } b ? top.Initializer($"{stem}_folded_b{i}", b) : null, form.Activations[i]));
    }

    public ForwardEmission EmitForward(OnnxGraphBuilder g, string x, bool withLogDet)
        => new(g.Add(x, EmitFoldedBranch(g, x)), withLogDet ? EmitLogDet(g, x) : null);

    public InverseEmission EmitInverse(OnnxGraphBuilder g, string y, LoopSettings loop)
    {
        // x ← y − g(x) with the subtraction inside the last Gemm: −h W′ᵀ + (y − b′), where y − b′ is computed once.
        var last = folded[^1];
        var shifted = last.Bias is null ? y : g.Sub(y, last.Bias);
        var result = OnnxFixedPointLoop.Emit(g, y, features, (body, x) => EmitFoldedBranch(body, x, shifted), loop);
        return new InverseEmission(result.Solution, result);
    }

    /// <summary>
    /// g(x) in the folded form of <see cref="Layers.FoldedMlp"/>: W′_k φ̃(… φ̃(W′_1 x + b′_1) …) + b′_k; or, given
    /// <paramref name="subtractFrom"/> = c − b′_k, the value c − g(x) from the same number of nodes.
    /// </summary>
    private string EmitFoldedBranch(OnnxGraphBuilder g, string x, string? subtractFrom = null)
    {
        var value = x;
        for (var i = 0; i < folded.Count; i++)
        {
            var (weight, bias, activation) = folded[i];
            value = i == folded.Count - 1 && subtractFrom is not null
                ? g.Node("Gemm", [value, weight, subtractFrom], null, OnnxGraphBuilder.Attribute("transB", 1L), OnnxGraphBuilder.Attribute("alpha", -1f))
                : g.Node("Gemm", bias is null ? [value, weight] : [value, weight, bias], null, OnnxGraphBuilder.Attribute("transB", 1L));
            if (activation is not null)
                value = activation.Kind == LipschitzActivation.LipSwish ? g.Mul(value, g.Node("Sigmoid", [value])) : activation.Folded(new OnnxAlgebra(g), value);
        }
        return value;
    }

    // J = W_k D_{k−1} ⋯ D_1 W_1 accumulated from the left, as ContractiveMlp.OutputAndJacobian does: each MatMul is
    // [batch, features, h] @ [h, h′], which ONNX Runtime runs as one matrix product instead of one per row.
    private string EmitJacobian(OnnxGraphBuilder g, string x)
    {
        var value = x;
        var derivatives = new List<string>();
        for (var i = 0; i < linears.Count - 1; i++)
        {
            var z = g.Add(g.MatMul(value, linears[i].WeightT.Value), linears[i].Bias.Value);
            derivatives.Add(Activation(g, i, derivative: true, z));
            value = Activation(g, i, derivative: false, z);
        }
        var jacobian = top.Initializer("jacobian_w", linears[^1].Weight);
        for (var i = derivatives.Count - 1; i >= 0; i--)
            jacobian = g.MatMul(g.Mul(jacobian, g.Unsqueeze(derivatives[i], 1)), top.Initializer("jacobian_w", linears[i].Weight));
        return jacobian;
    }

    private string Activation(OnnxGraphBuilder g, int index, bool derivative, string z)
    {
        var (math, beta) = activations[index];
        var ops = new OnnxAlgebra(g);
        var b = beta is { } value ? g.Scalar((float)value, "beta") : null;
        return derivative ? math.Derivative(ops, z, b) : math.Value(ops, z, b);
    }

    private string EmitLogDet(OnnxGraphBuilder g, string x)
    {
        var jacobian = EmitJacobian(g, x);
        if (logDet.Method != LogDetMethod.ExactTraceSeries)
            return g.Node("Log", [g.Node("Abs", [g.Node("Det", [g.Add(jacobian, top.Initializer("identity", eye(features)))])])]);
        // Σ_{k=1}^{n} (−1)^{k+1} tr(J^k) / k, the formula of ExactTraceSeriesLogDet.
        var identity = top.Initializer("identity", eye(features));
        var axes = g.Int64("trace_axes", 1, 2);
        string? sum = null;
        var power = jacobian;
        for (var k = 1; k <= logDet.Terms; k++)
        {
            if (k > 1)
                power = g.MatMul(power, jacobian);
            var trace = g.Node("ReduceSum", [g.Mul(power, identity), axes], null, OnnxGraphBuilder.Attribute("keepdims", 0L));
            var term = g.Mul(trace, g.Scalar((float)((k % 2 == 1 ? 1.0 : -1.0) / k), "series_coefficient"));
            sum = sum is null ? term : g.Add(sum, term);
        }
        return sum!;
    }
}
