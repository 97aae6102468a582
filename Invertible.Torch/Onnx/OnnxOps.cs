using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>Operator patterns shared by the exporters (written for opsets 17–26).</summary>
internal static class OnnxOps
{
    public static string Add(this OnnxGraphBuilder g, string a, string b) => g.Node("Add", [a, b]);
    public static string Sub(this OnnxGraphBuilder g, string a, string b) => g.Node("Sub", [a, b]);
    public static string Mul(this OnnxGraphBuilder g, string a, string b) => g.Node("Mul", [a, b]);
    public static string Div(this OnnxGraphBuilder g, string a, string b) => g.Node("Div", [a, b]);
    public static string MatMul(this OnnxGraphBuilder g, string a, string b) => g.Node("MatMul", [a, b]);

    /// <summary>x Wᵀ + b for a weight [out, in] (stored transposed) and an optional bias.</summary>
    public static string Linear(this OnnxGraphBuilder g, string x, Tensor weight, Tensor? bias, string stem)
    {
        var product = g.MatMul(x, g.Initializer(stem + "_weight_t", weight.t()));
        return bias is null ? product : g.Add(product, g.Initializer(stem + "_bias", bias));
    }

    /// <summary>φ(z) for a 1-Lipschitz activation; <paramref name="beta"/> is its parameter β, if it has one.</summary>
    public static string Activation(this OnnxGraphBuilder g, string z, LipschitzActivation kind, double? beta)
        => LipschitzActivationMath.Of(kind).Value(new OnnxAlgebra(g), z, beta is { } b ? g.Scalar((float)b, "beta") : null);

    /// <summary>φ'(z) elementwise.</summary>
    public static string ActivationDerivative(this OnnxGraphBuilder g, string z, LipschitzActivation kind, double? beta)
        => LipschitzActivationMath.Of(kind).Derivative(new OnnxAlgebra(g), z, beta is { } b ? g.Scalar((float)b, "beta") : null);

    /// <summary>
    /// A reduction over one axis. ReduceSum takes its axes as an input since opset 13, the other reductions only since
    /// opset 18 (an attribute before).
    /// </summary>
    public static string Reduce(this OnnxGraphBuilder g, string op, string x, long axis, bool keepDims)
    {
        var keep = OnnxGraphBuilder.Attribute("keepdims", keepDims ? 1L : 0L);
        return op == "ReduceSum" || g.Opset >= 18
            ? g.Node(op, [x, g.Int64("axis", axis)], null, keep)
            : g.Node(op, [x], null, keep, OnnxGraphBuilder.Attribute("axes", [axis]));
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="axis"/>.</summary>
    public static string Unsqueeze(this OnnxGraphBuilder g, string x, long axis) => g.Node("Unsqueeze", [x, g.Int64("axes", axis)]);

    /// <summary>A cast to the given element type.</summary>
    public static string Cast(this OnnxGraphBuilder g, string x, TensorProto.Types.DataType type)
        => g.Node("Cast", [x], null, OnnxGraphBuilder.Attribute("to", (long)type));

    /// <summary>A [batch] float zero vector shaped after the rows of <paramref name="rows"/> (no shape arithmetic).</summary>
    public static string ZerosPerRow(this OnnxGraphBuilder g, string rows, int features)
        => g.Node("ReduceSum", [g.MatMul(rows, g.Initializer("zero_columns", zeros(features, 1))), g.Int64("axis1", 1)], null, OnnxGraphBuilder.Attribute("keepdims", 0L));

    /// <summary>A [batch, width] float zero matrix shaped after the rows of <paramref name="rows"/>.</summary>
    public static string ZerosLike(this OnnxGraphBuilder g, string rows, int features, int width)
        => g.MatMul(rows, g.Initializer("zero_block", zeros(features, width)));
}
