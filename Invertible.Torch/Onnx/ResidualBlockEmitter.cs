using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.LogDet;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// An invertible residual block y = x + g(x) (<see cref="ResidualBlockBase"/>, generic or fused), emitted by evaluating
/// <see cref="ContractiveMlpMath"/> on <see cref="OnnxAlgebra"/>: g in the folded form evaluation mode runs
/// (<see cref="FoldedMlp"/>); the inverse as a fixed-point loop x ← y − g(x); log|det(I + J_g(x))| per row as the block's
/// <see cref="ResidualBlockBase.EvaluationLogDet"/> says — <c>Det</c> of the analytic Jacobian for
/// <see cref="LogDetMethod.Exact"/>, the truncated series with exact traces for <see cref="LogDetMethod.ExactTraceSeries"/>,
/// the same fixed probes' series for <see cref="LogDetMethod.FixedProbeSeries"/>,
/// and <c>Det</c> for the stochastic estimators too, because a deployed score must be deterministic.
/// </summary>
internal sealed class ResidualBlockEmitter : IInvertibleLayerEmitter
{
    private readonly List<(string Weight, string? Bias, LipschitzActivationMath? Activation, ConvolutionGeometry? Convolution)> folded = [];
    // The unfolded effective weights, for the Jacobian: their initializers are created when a log-determinant is emitted,
    // so a graph without one carries none (ONNX Runtime warns about unused initializers).
    private readonly List<(Tensor Weight, Tensor? Bias, LipschitzActivationMath? Activation, Tensor? Beta, ConvolutionGeometry? Convolution)> unfolded = [];
    private readonly LogDetOptions logDet;
    private readonly OnnxGraphBuilder top;
    private readonly string stem;
    private readonly int features;

    public ResidualBlockEmitter(ResidualBlockBase block, OnnxGraphBuilder top, string stem)
    {
        (this.top, this.stem, features, logDet) = (top, stem, block.Features, block.EvaluationLogDet);
        using var _ = no_grad();
        foreach (var layer in block.Residual.Layers)
        {
            switch (layer)
            {
                case SpectralNormLinear linear:
                    unfolded.Add((linear.EffectiveWeight().detach(), linear.Bias?.detach(), null, null, null));
                    break;
                case SpectralNormConv2d convolution:
                    unfolded.Add((convolution.EffectiveWeight().detach(), convolution.Bias?.detach(), null, null, convolution.Geometry));
                    break;
                case IElementwiseActivation activation:
                    unfolded[^1] = unfolded[^1] with { Activation = activation.Math, Beta = activation.Beta(activation.EffectiveParameters().ToArray())?.detach() };
                    break;
            }
        }
        var form = block.Residual.Folded();
        for (var i = 0; i < form.Weights.Count; i++)
            folded.Add((top.Initializer($"{stem}_folded_w{i}", form.Weights[i]), form.Biases[i] is { } b ? top.Initializer($"{stem}_folded_b{i}", b) : null, form.Activations[i], form.Convolutions[i]));
    }

    public ForwardEmission EmitForward(OnnxGraphBuilder g, string x, bool withLogDet)
    {
        var ops = Algebra(g);
        return new(g.Add(x, ContractiveMlpMath.Value(ops, x, FoldedStages(ops))), withLogDet ? EmitLogDet(ops, x) : null);
    }

    public InverseEmission EmitInverse(OnnxGraphBuilder g, string y, LoopSettings loop)
    {
        var shifted = ContractiveMlpMath.Shifted(Algebra(g), y, FoldedStages(Algebra(g)));
        var result = OnnxFixedPointLoop.Emit(g, y, features, (body, x) =>
        {
            var ops = Algebra(body);
            return ContractiveMlpMath.SubtractedFrom(ops, shifted, x, FoldedStages(ops));
        }, loop);
        return new InverseEmission(result.Solution, result);
    }

    private OnnxAlgebra Algebra(OnnxGraphBuilder g) => new(g, top, stem + "_");

    private List<MlpStage<string>> FoldedStages(OnnxAlgebra ops)
        => [.. folded.Select(f => new MlpStage<string>(f.Weight, f.Bias, f.Activation is { } math ? u => math.Folded(ops, u) : null, null) { Convolution = f.Convolution })];

    private List<MlpStage<string>> UnfoldedStages(OnnxAlgebra ops) => [.. unfolded.Select((layer, i) =>
    {
        var beta = layer.Beta is { } b ? ops.Weight(b, $"beta{i}") : null;
        return new MlpStage<string>(ops.Weight(layer.Weight, $"w{i}"), layer.Bias is { } bias ? ops.Weight(bias, $"b{i}") : null,
            layer.Activation is { } math ? z => math.Value(ops, z, beta) : null,
            layer.Activation is { } slopeMath ? z => slopeMath.Derivative(ops, z, beta) : null) { Convolution = layer.Convolution };
    })];

    private string EmitLogDet(OnnxAlgebra ops, string x)
    {
        var stages = UnfoldedStages(ops);
        var slopes = ContractiveMlpMath.Slopes(ops, x, stages).Slopes;
        if (logDet.Method == LogDetMethod.FixedProbeSeries)
        {
            var probes = StochasticSeriesLogDet.FixedProbes(logDet, features, ScalarType.Float32, CPU);
            return StochasticSeriesLogDet.FixedProbeSeries(ops, w => ContractiveMlpMath.VectorJacobian(ops, w, stages, slopes),
                [.. Enumerable.Range(0, logDet.Probes).Select(i => (ops.Weight(probes[i].unsqueeze(0), $"probe_rows{i}"), ops.Weight(probes[i], $"probe{i}")))], logDet.Terms);
        }
        var jacobian = ContractiveMlpMath.Jacobian(ops, stages, slopes);
        return logDet.Method == LogDetMethod.ExactTraceSeries
            ? ExactTraceSeriesLogDet.Series(ops, jacobian, features, logDet.Terms)
            : ExactLogDet.Of(ops, jacobian, features);
    }
}
