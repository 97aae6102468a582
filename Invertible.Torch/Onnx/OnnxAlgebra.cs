using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;

namespace Invertible.Torch.Onnx;

/// <summary><see cref="ITensorAlgebra{T}"/> that emits float32 nodes into a graph: formulas written once for TorchSharp
/// become graph nodes here.</summary>
internal readonly struct OnnxAlgebra(OnnxGraphBuilder g) : ITensorAlgebra<string>
{
    public string Constant(double value) => g.Scalar((float)value, "constant");
    public string Scale(string a, double factor) => g.Mul(a, Constant(factor));
    public string Add(string a, string b) => g.Add(a, b);
    public string Sub(string a, string b) => g.Sub(a, b);
    public string Mul(string a, string b) => g.Mul(a, b);
    public string Div(string a, string b) => g.Div(a, b);
    public string Sigmoid(string a) => g.Node("Sigmoid", [a]);
    public string Tanh(string a) => g.Node("Tanh", [a]);
    public string Elu(string a) => g.Node("Elu", [a], null, OnnxGraphBuilder.Attribute("alpha", 1f));
    public string Exp(string a) => g.Node("Exp", [a]);
    public string Min(string a, string b) => g.Node("Min", [a, b]);
    public string RowSumOfSquares(string a) => g.Node("ReduceSum", [g.Mul(a, a), g.Int64("axis1", 1)], null, OnnxGraphBuilder.Attribute("keepdims", 0L));
    public string RowSoftmax(string a) => g.Node("Softmax", [a], null, OnnxGraphBuilder.Attribute("axis", 1L));
    public string RowArgMax(string a) => g.Node("ArgMax", [a], null, OnnxGraphBuilder.Attribute("axis", 1L), OnnxGraphBuilder.Attribute("keepdims", 0L));
    public string OnlyColumn(string a) => g.Node("Squeeze", [a, g.Int64("axes", 1)]);
    public string IsPositive(string a) => g.Node("Greater", [a, g.Scalar(0f, "zero")]);
}
