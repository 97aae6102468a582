using Invertible.Torch.Core;
using Invertible.Torch.Layers;

namespace Invertible.Torch.Onnx;

/// <summary>Any <see cref="IClosedFormLayer"/>: its own formulas evaluated on the ONNX algebra, weights as initializers.</summary>
internal sealed class ClosedFormLayerEmitter(IClosedFormLayer layer, OnnxGraphBuilder top, string stem) : IInvertibleLayerEmitter
{
    public ForwardEmission EmitForward(OnnxGraphBuilder g, string x, bool logDet)
    {
        var ops = new OnnxAlgebra(g, top, stem + "_");
        var (output, row) = layer.ForwardWithRowLogDet(ops, x, logDet);
        return new ForwardEmission(output, row, logDet ? layer.ConstantLogDet().ReadDouble() : 0);
    }

    public InverseEmission EmitInverse(OnnxGraphBuilder g, string y, LoopSettings loop) => new(layer.Inverse(new OnnxAlgebra(g, top, stem + "_"), y));
}
