using Invertible.Torch.Core;
using Invertible.Torch.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary><see cref="ActNorm"/>: y = (x + b) ⊙ exp(s), log|det| = Σ s (a constant), x = y ⊙ exp(−s) − b.</summary>
internal sealed class ActNormEmitter : IInvertibleLayerEmitter
{
    private readonly Tensor bias, logScale;
    private readonly OnnxGraphBuilder top;
    private readonly string stem;

    public ActNormEmitter(ActNorm layer, OnnxGraphBuilder top, string stem)
    {
        (bias, logScale) = (layer.Bias.detach(), layer.LogScale.detach());
        (this.top, this.stem) = (top, stem);
    }

    public ForwardEmission EmitForward(OnnxGraphBuilder g, string x, bool logDet)
        => new(g.Mul(g.Add(x, top.Initializer(stem + "_bias", bias)), top.Initializer(stem + "_scale", logScale.exp())), ConstantLogDet: logScale.sum().ReadDouble());

    public InverseEmission EmitInverse(OnnxGraphBuilder g, string y, LoopSettings loop)
        => new(g.Sub(g.Mul(y, top.Initializer(stem + "_inverse_scale", logScale.neg().exp())), top.Initializer(stem + "_bias", bias)));
}
