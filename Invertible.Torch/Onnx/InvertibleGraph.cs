using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Onnx;

namespace Invertible.Torch.Onnx;

/// <summary>Forward and inverse graphs of a composition of invertible layers, one emitter per layer.</summary>
internal sealed class InvertibleGraph
{
    private readonly IInvertibleLayerEmitter[] emitters;
    private readonly int features;

    public InvertibleGraph(OnnxGraphBuilder top, IInvertibleDensityModel model)
    {
        features = model.Features;
        emitters = model.Layers.Select((layer, i) => OnnxEmitters.For(layer, top, $"layer{i}")).ToArray();
    }

    /// <summary>y = F(x) and, when asked, Σ log|det| per row (constants folded into one addend).</summary>
    public (string Output, string? LogDet) EmitForward(OnnxGraphBuilder g, string x, bool withLogDet)
    {
        var value = x;
        string? rowLogDet = null;
        var constant = 0.0;
        foreach (var emitter in emitters)
        {
            var step = emitter.EmitForward(g, value, withLogDet);
            value = step.Output;
            constant += step.ConstantLogDet;
            if (step.RowLogDet is { } row)
                rowLogDet = rowLogDet is null ? row : g.Add(rowLogDet, row);
        }
        if (!withLogDet)
            return (value, null);
        var logDet = rowLogDet ?? g.ZerosPerRow(value, features);
        return (value, constant == 0 ? logDet : g.Add(logDet, g.Scalar((float)constant, "constant_logdet")));
    }

    /// <summary>x = F⁻¹(y) layer by layer in reverse, with per row the summed iterations, the worst residual and
    /// whether every loop met its rule.</summary>
    public (string Input, string Iterations, string Residual, string Converged) EmitInverse(OnnxGraphBuilder g, string y, LoopSettings loop)
    {
        var value = y;
        string? iterations = null, residual = null, converged = null;
        for (var i = emitters.Length - 1; i >= 0; i--)
        {
            var step = emitters[i].EmitInverse(g, value, loop);
            value = step.Input;
            if (step.Loop is not { } solve)
                continue;
            iterations = iterations is null ? solve.Iterations : g.Add(iterations, solve.Iterations);
            residual = residual is null ? solve.Residual : g.Node("Max", [residual, solve.Residual]);
            converged = converged is null ? solve.Converged : g.Node("And", [converged, solve.Converged]);
        }
        var zeros = g.ZerosPerRow(value, features);
        return (value, iterations ?? g.Cast(zeros, TensorProto.Types.DataType.Int64), residual ?? zeros,
            converged ?? g.Node("Not", [g.Cast(zeros, TensorProto.Types.DataType.Bool)]));
    }
}
