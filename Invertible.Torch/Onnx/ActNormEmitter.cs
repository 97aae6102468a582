using Invertible.Torch.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary><see cref="ActNorm"/>: y = (x + b) ⊙ exp(s), log|det| = Σ s (a constant), x = y ⊙ exp(−s) − b.</summary>
internal sealed class ActNormEmitter : IInvertibleLayerEmitter
{
    private readonly string bias, scale, inverseScale;
    private readonly double logDet;

    public ActNormEmitter(ActNorm layer, OnnxGraphBuilder top, string stem)
    {
        using var _ = no_grad();
        bias = top.Initializer(stem + "_bias", layer.Bias);
        scale = top.Initializer(stem + "_scale", layer.LogScale.exp());
        inverseScale = top.Initializer(stem + "_inverse_scale", layer.LogScale.neg().exp());
        logDet = layer.LogScale.sum().ToDouble();
    }

    public ForwardEmission EmitForward(OnnxGraphBuilder g, string x, bool logDet) => new(g.Mul(g.Add(x, bias), scale), ConstantLogDet: this.logDet);

    public InverseEmission EmitInverse(OnnxGraphBuilder g, string y, LoopSettings loop) => new(g.Sub(g.Mul(y, inverseScale), bias));
}
