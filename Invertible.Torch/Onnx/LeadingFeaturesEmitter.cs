using Invertible.Torch.Layers;

namespace Invertible.Torch.Onnx;

/// <summary><see cref="LeadingFeatures"/>: the wrapped layer's emission on the leading columns, the rest concatenated after it.</summary>
internal sealed class LeadingFeaturesEmitter(LeadingFeatures layer, OnnxGraphBuilder top, string stem) : IInvertibleLayerEmitter
{
    private readonly IInvertibleLayerEmitter inner = OnnxEmitters.For(layer.Layer, top, stem);

    public ForwardEmission EmitForward(OnnxGraphBuilder g, string x, bool logDet)
    {
        var (head, tail) = Split(g, x);
        var emitted = inner.EmitForward(g, head, logDet);
        return emitted with { Output = Join(g, emitted.Output, tail) };
    }

    public InverseEmission EmitInverse(OnnxGraphBuilder g, string y, LoopSettings loop)
    {
        var (head, tail) = Split(g, y);
        var emitted = inner.EmitInverse(g, head, loop);
        return emitted with { Input = Join(g, emitted.Input, tail) };
    }

    private (string Head, string Tail) Split(OnnxGraphBuilder g, string rows)
    {
        var (leading, all) = ((long)layer.Layer.Features, (long)layer.Features);
        var columns = g.Int64("columns", 1);
        return (g.Node("Slice", [rows, g.Int64("head_start", 0), g.Int64("head_end", leading), columns]),
            g.Node("Slice", [rows, g.Int64("tail_start", leading), g.Int64("tail_end", all), columns]));
    }

    private static string Join(OnnxGraphBuilder g, string head, string tail)
        => g.Node("Concat", [head, tail], null, OnnxGraphBuilder.Attribute("axis", 1L));
}
