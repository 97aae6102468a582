using Invertible.Torch.Core;
using Invertible.Torch.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary><see cref="InvertibleLinear"/>: y = W x per row (or per pixel), log|det| (a constant), x = W⁻¹ y with W⁻¹ formed
/// once in float64.</summary>
internal sealed class InvertibleLinearEmitter : IInvertibleLayerEmitter
{
    private readonly Tensor weight;
    private readonly double logDet;
    private readonly OnnxGraphBuilder top;
    private readonly string stem;
    private readonly ImageShape? image;

    public InvertibleLinearEmitter(InvertibleLinear layer, OnnxGraphBuilder top, string stem)
    {
        using var _ = no_grad();
        weight = layer.Weight().detach();
        logDet = layer.LogDet().ReadDouble();
        (this.top, this.stem, image) = (top, stem, layer.Image);
    }

    public ForwardEmission EmitForward(OnnxGraphBuilder g, string x, bool logDet)
        => new(Mix(g, x, weight, "_weight"), ConstantLogDet: this.logDet);

    public InverseEmission EmitInverse(OnnxGraphBuilder g, string y, LoopSettings loop)
    {
        using var _ = no_grad();
        return new(Mix(g, y, linalg.inv(weight.to(ScalarType.Float64)), "_inverse"));
    }

    // rows · matrixᵀ, or matrix · (each image's [channels, pixels] view).
    private string Mix(OnnxGraphBuilder g, string rows, Tensor matrix, string name)
    {
        if (image is null)
            return g.MatMul(rows, top.Initializer(stem + name + "_t", matrix.t()));
        var pixels = (long)(image.Height * image.Width);
        var planes = g.Node("Reshape", [rows, g.Int64("channel_planes", -1, image.Channels, pixels)]);
        return g.Node("Reshape", [g.MatMul(top.Initializer(stem + name, matrix), planes), g.Int64("image_row", -1, image.Size)]);
    }
}
