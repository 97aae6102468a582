using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// <see cref="ITensorAlgebra{T}"/> that emits float32 nodes into a graph: formulas written once for TorchSharp become
/// graph nodes here. A subexpression of weights alone (e.g. exp(s) of a log-scale, ‖v‖²) is folded: computed once by
/// TorchSharp, exactly as the layer computes it, and stored as an initializer.
/// </summary>
internal sealed class OnnxAlgebra : ITensorAlgebra<string>
{
    private readonly OnnxGraphBuilder g, top;
    private readonly string stem;
    private readonly Dictionary<string, Tensor> weights = [];
    private (string Identity, string Axes)? trace;

    /// <param name="g">The graph (or loop body) the nodes go into.</param>
    /// <param name="top">The top-level graph that holds weights as initializers, readable from loop bodies (default <paramref name="g"/>).</param>
    /// <param name="stem">Prefix of the weights' initializer names (the layer's).</param>
    public OnnxAlgebra(OnnxGraphBuilder g, OnnxGraphBuilder? top = null, string stem = "") => (this.g, this.top, this.stem) = (g, top ?? g, stem);

    public string Constant(double value) => g.Scalar((float)value, "constant");
    public string Scale(string a, double factor) => Unary(a, t => t.Mul(factor), () => g.Mul(a, Constant(factor)));
    public string Add(string a, string b) => Binary(a, b, (x, y) => x.Add(y), () => g.Add(a, b));
    public string Sub(string a, string b) => Binary(a, b, (x, y) => x.sub(y), () => g.Sub(a, b));
    public string Mul(string a, string b) => Binary(a, b, (x, y) => x.mul(y), () => g.Mul(a, b));
    public string Div(string a, string b) => Binary(a, b, (x, y) => x.div(y), () => g.Div(a, b));
    public string Sigmoid(string a) => Unary(a, t => t.sigmoid(), () => g.Node("Sigmoid", [a]));
    public string Tanh(string a) => Unary(a, t => t.tanh(), () => g.Node("Tanh", [a]));
    public string Elu(string a) => Unary(a, HeldScalars.Elu, () => g.Node("Elu", [a], null, OnnxGraphBuilder.Attribute("alpha", 1f)));
    public string Exp(string a) => Unary(a, t => t.exp(), () => g.Node("Exp", [a]));
    public string Min(string a, string b) => Binary(a, b, minimum, () => g.Node("Min", [a, b]));
    public string RowSumOfSquares(string a) => g.Node("ReduceSum", [g.Mul(a, a), g.Int64("axis1", 1)], null, OnnxGraphBuilder.Attribute("keepdims", 0L));
    public string RowSum(string a) => g.Node("ReduceSum", [a, g.Int64("axis1", 1)], null, OnnxGraphBuilder.Attribute("keepdims", 0L));
    public string Log(string a) => Unary(a, t => t.log(), () => g.Node("Log", [a]));
    public string RowSoftmax(string a) => g.Node("Softmax", [a], null, OnnxGraphBuilder.Attribute("axis", 1L));
    public string RowArgMax(string a) => g.Node("ArgMax", [a], null, OnnxGraphBuilder.Attribute("axis", 1L), OnnxGraphBuilder.Attribute("keepdims", 0L));
    public string OnlyColumn(string a) => g.Node("Squeeze", [a, g.Int64("axes", 1)]);
    public string IsPositive(string a) => g.Node("Greater", [a, g.Scalar(0f, "zero")]);
    public string Weight(Tensor value, string name) => Known(name, value.detach());
    public string SumAll(string a) => Unary(a, t => t.sum(), () => g.Node("ReduceSum", [a], null, OnnxGraphBuilder.Attribute("keepdims", 0L)));
    public string RowDot(string a, string vector) => g.MatMul(a, vector);
    public string Outer(string perRow, string vector) => g.Mul(g.Unsqueeze(perRow, 1), vector);
    public string Linear(string x, string weight, string? bias)
        => g.Node("Gemm", bias is null ? [x, weight] : [x, weight, bias], null, OnnxGraphBuilder.Attribute("transB", 1L));
    public string SubtractLinear(string from, string x, string weight)
        => g.Node("Gemm", [x, weight, from], null, OnnxGraphBuilder.Attribute("transB", 1L), OnnxGraphBuilder.Attribute("alpha", -1f));
    public string MatMul(string a, string b) => g.MatMul(a, b);
    public string Trace(string matrices, int size)
    {
        var (identity, axes) = trace ??= (Identity(size), g.Int64("trace_axes", 1, 2));
        return g.Node("ReduceSum", [g.Mul(matrices, identity), axes], null, OnnxGraphBuilder.Attribute("keepdims", 0L));
    }
    public string Identity(int size) => Known("identity", eye(size));
    public string LogAbsDeterminant(string matrices) => g.Node("Log", [g.Node("Abs", [g.Node("Det", [matrices])])]);
    public string Convolve(string x, string kernel, string? bias, ConvolutionGeometry geometry)
    {
        var (input, output, p) = (geometry.Input, geometry.Output, (long)geometry.Padding);
        var images = g.Node("Reshape", [x, g.Int64("image_shape", -1, input.Channels, input.Height, input.Width)]);
        var convolved = g.Node("Conv", bias is null ? [images, kernel] : [images, kernel, bias], null, OnnxGraphBuilder.Attribute("pads", [p, p, p, p]));
        return g.Node("Reshape", [convolved, g.Int64("row_shape", -1, output.Size)]);
    }
    public string ConvolveTransposed(string w, string kernel, ConvolutionGeometry geometry)
    {
        var (input, output, p) = (geometry.Input, geometry.Output, (long)geometry.Padding);
        var images = g.Node("Reshape", [w, g.Int64("image_shape", -1, output.Channels, output.Height, output.Width)]);
        var convolved = g.Node("ConvTranspose", [images, kernel], null, OnnxGraphBuilder.Attribute("pads", [p, p, p, p]));
        return g.Node("Reshape", [convolved, g.Int64("row_shape", -1, input.Size)]);
    }
    public string ConvolutionMatrix(string kernel, ConvolutionGeometry geometry)
        => Unary(kernel, k => new TensorAlgebra(k).ConvolutionMatrix(k, geometry), () => throw new NotSupportedException("A convolution's dense matrix is formed from a known kernel only."));
    public string PerChannel(string values, ImageShape image)
        => Unary(values, v => new TensorAlgebra(v).PerChannel(v, image), () =>
        {
            var (channels, pixels) = ((long)image.Channels, (long)(image.Height * image.Width));
            var column = g.Node("Reshape", [values, g.Int64("channel_column", channels, 1)]);
            return g.Node("Reshape", [g.Node("Expand", [column, g.Int64("channel_plane", channels, pixels)]), g.Int64("image_row", channels * pixels)]);
        });
    public string Columns(string a, int start, int count)
        => g.Node("Slice", [a, g.Int64("columns_start", start), g.Int64("columns_end", start + count), g.Int64("axis1", 1)]);
    public string ConcatColumns(string a, string b) => g.Node("Concat", [a, b], null, OnnxGraphBuilder.Attribute("axis", 1L));
    public string SpaceToDepth(string x, ImageShape input) => Rearranged(x, input,
        [-1, input.Channels, input.Height / 2, 2, input.Width / 2, 2], [0, 1, 3, 5, 2, 4]);
    public string DepthToSpace(string y, ImageShape input) => Rearranged(y, input,
        [-1, input.Channels, 2, 2, input.Height / 2, input.Width / 2], [0, 1, 4, 2, 5, 3]);
    private string Rearranged(string rows, ImageShape input, long[] blocks, long[] permutation)
        => g.Node("Reshape", [g.Node("Transpose", [g.Node("Reshape", [rows, g.Int64("blocks", blocks)])], null, OnnxGraphBuilder.Attribute("perm", permutation)),
            g.Int64("row_shape", -1, input.Size)]);
    public string ScaleColumns(string matrices, string perColumn) => g.Mul(matrices, g.Unsqueeze(perColumn, 1));

    private string Known(string name, Tensor value)
    {
        var initializer = top.Initializer(stem + name, value);
        weights[initializer] = value;
        return initializer;
    }

    private string Unary(string a, Func<Tensor, Tensor> fold, Func<string> emit)
    {
        if (!weights.TryGetValue(a, out var value))
            return emit();
        using var _ = no_grad();
        return Known("folded", fold(value));
    }

    private string Binary(string a, string b, Func<Tensor, Tensor, Tensor> fold, Func<string> emit)
    {
        if (!weights.TryGetValue(a, out var x) || !weights.TryGetValue(b, out var y))
            return emit();
        using var _ = no_grad();
        return Known("folded", fold(x, y));
    }
}
