using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// An invertible layer whose forward map, log-determinant and inverse are closed-form formulas, written once over the
/// tensor algebra: the TorchSharp layer evaluates them on tensors, and the ONNX exporter emits them into graphs with
/// one generic emitter. A new layer of this kind is one file.
/// </summary>
internal interface IClosedFormLayer : IInvertibleLayer
{
    /// <summary>y = F(x).</summary>
    T Forward<T>(ITensorAlgebra<T> ops, T input) where T : class;

    /// <summary>x = F⁻¹(y).</summary>
    T Inverse<T>(ITensorAlgebra<T> ops, T output) where T : class;

    /// <summary>y = F(x) and, when <paramref name="logDet"/>, the part of log|det ∂y/∂x| that varies with the row ([rows]):
    /// what evaluation and export call. The default is for layers whose determinant depends on the weights alone (null);
    /// a layer with a row part overrides it, computing what y and the row part share once.</summary>
    (T Output, T? RowLogDet) ForwardWithRowLogDet<T>(ITensorAlgebra<T> ops, T input, bool logDet) where T : class
        => (Forward(ops, input), null);

    /// <summary>The part of log|det ∂y/∂x| that depends on the weights alone: a scalar, differentiable in them (exported
    /// as one constant, folded with the other layers' in float64).</summary>
    Tensor ConstantLogDet();
}

/// <summary>How a closed-form layer runs on TorchSharp tensors.</summary>
internal static class ClosedFormLayer
{
    /// <summary>(y, log|det|) per row.</summary>
    public static (Tensor Output, Tensor LogDet) Evaluate(IClosedFormLayer layer, Tensor input)
    {
        var ops = new TensorAlgebra(input);
        var constant = layer.ConstantLogDet().expand(input.shape[0]);
        var (output, row) = layer.ForwardWithRowLogDet(ops, input, logDet: true);
        return (output, row is not null ? row.Add(constant) : constant);
    }

    /// <summary>x = F⁻¹(y).</summary>
    public static Tensor Invert(IClosedFormLayer layer, Tensor output) => layer.Inverse(new TensorAlgebra(output), output);
}
