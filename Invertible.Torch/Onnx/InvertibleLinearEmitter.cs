using Invertible.Torch.Core;
using Invertible.Torch.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary><see cref="InvertibleLinear"/>: y = x Wᵀ, log|det W| (a constant), x = y W⁻ᵀ with W⁻¹ formed once in float64.</summary>
internal sealed class InvertibleLinearEmitter : IInvertibleLayerEmitter
{
    private readonly Tensor weight;
    private readonly double logDet;
    private readonly OnnxGraphBuilder top;
    private readonly string stem;

    public InvertibleLinearEmitter(InvertibleLinear layer, OnnxGraphBuilder top, string stem)
    {
        using var _ = no_grad();
        weight = layer.Weight().detach();
        logDet = layer.LogDet().ReadDouble();
        (this.top, this.stem) = (top, stem);
    }

    public ForwardEmission EmitForward(OnnxGraphBuilder g, string x, bool logDet)
        => new(g.MatMul(x, top.Initializer(stem + "_weight_t", weight.t())), ConstantLogDet: this.logDet);

    public InverseEmission EmitInverse(OnnxGraphBuilder g, string y, LoopSettings loop)
    {
        using var _ = no_grad();
        var inverse = linalg.inv(weight.to(ScalarType.Float64));
        return new(g.MatMul(y, top.Initializer(stem + "_inverse_t", inverse.t())));
    }
}
