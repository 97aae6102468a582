using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary><see cref="ITensorAlgebra{T}"/> on TorchSharp tensors (differentiable by autograd).</summary>
/// <param name="like">Constants take this tensor's type and device.</param>
internal readonly struct TensorAlgebra(Tensor like) : ITensorAlgebra<Tensor>
{
    /// <inheritdoc />
    public Tensor Constant(double value) => tensor(value, dtype: like.dtype, device: like.device);

    /// <inheritdoc />
    public Tensor Scale(Tensor a, double factor) => a.Mul(factor);

    /// <inheritdoc />
    public Tensor Add(Tensor a, Tensor b) => a.Add(b);

    /// <inheritdoc />
    public Tensor Sub(Tensor a, Tensor b) => a.sub(b);

    /// <inheritdoc />
    public Tensor Mul(Tensor a, Tensor b) => a.mul(b);

    /// <inheritdoc />
    public Tensor Div(Tensor a, Tensor b) => a.div(b);

    /// <inheritdoc />
    public Tensor Sigmoid(Tensor a) => a.sigmoid();

    /// <inheritdoc />
    public Tensor Tanh(Tensor a) => a.tanh();

    /// <inheritdoc />
    public Tensor Elu(Tensor a) => HeldScalars.Elu(a);

    /// <inheritdoc />
    public Tensor Exp(Tensor a) => a.exp();

    /// <inheritdoc />
    public Tensor Min(Tensor a, Tensor b) => minimum(a, b);

    /// <inheritdoc />
    public Tensor RowSumOfSquares(Tensor a) => a.Square().sum(dim: 1);

    /// <inheritdoc />
    public Tensor RowSum(Tensor a) => a.sum(dim: 1);

    /// <inheritdoc />
    public Tensor Log(Tensor a) => a.log();

    /// <inheritdoc />
    public Tensor RowSoftmax(Tensor a) => a.softmax(1);

    /// <inheritdoc />
    public Tensor RowArgMax(Tensor a) => a.argmax(1);

    /// <inheritdoc />
    public Tensor OnlyColumn(Tensor a) => a.squeeze(1);

    /// <inheritdoc />
    public Tensor IsPositive(Tensor a) => a.Gt(0);

    /// <inheritdoc />
    public Tensor Weight(Tensor value, string name) => value;

    /// <inheritdoc />
    public Tensor SumAll(Tensor a) => a.sum();

    /// <inheritdoc />
    public Tensor RowDot(Tensor a, Tensor vector) => a.mv(vector);

    /// <inheritdoc />
    public Tensor Outer(Tensor perRow, Tensor vector) => perRow.outer(vector);

    /// <inheritdoc />
    public Tensor Linear(Tensor x, Tensor weight, Tensor? bias) => nn.functional.linear(x, weight, bias);

    /// <inheritdoc />
    public Tensor SubtractLinear(Tensor from, Tensor x, Tensor weight) => addmm(from, x, weight.t(), 1, -1);

    /// <inheritdoc />
    public Tensor MatMul(Tensor a, Tensor b) => a.matmul(b);

    /// <inheritdoc />
    public Tensor ScaleColumns(Tensor matrices, Tensor perColumn) => matrices.mul(perColumn.unsqueeze(-2));

    /// <inheritdoc />
    public Tensor Trace(Tensor matrices, int size) => matrices.diagonal(dim1: -2, dim2: -1).sum(dim: -1);

    /// <inheritdoc />
    public Tensor Identity(int size) => eye(size, dtype: like.dtype, device: like.device);

    /// <inheritdoc />
    public Tensor LogAbsDeterminant(Tensor matrices) => linalg.slogdet(matrices).Item2;

    /// <inheritdoc />
    public Tensor Convolve(Tensor x, Tensor kernel, Tensor? bias, ConvolutionGeometry geometry)
        => nn.functional.conv2d(geometry.Input.Images(x), kernel, bias, padding: [geometry.Padding, geometry.Padding]).flatten(1);

    /// <inheritdoc />
    public Tensor ConvolveTransposed(Tensor w, Tensor kernel, ConvolutionGeometry geometry)
        => nn.functional.conv_transpose2d(geometry.Output.Images(w), kernel, padding: [geometry.Padding, geometry.Padding]).flatten(1);

    /// <inheritdoc />
    public Tensor ConvolutionMatrix(Tensor kernel, ConvolutionGeometry geometry)
        => Convolve(eye(geometry.Input.Size, dtype: kernel.dtype, device: kernel.device), kernel, null, geometry).t();

    /// <inheritdoc />
    public Tensor PerChannel(Tensor values, ImageShape image) => values.repeat_interleave(image.Height * image.Width);

    /// <inheritdoc />
    public Tensor Columns(Tensor a, int start, int count) => a[.., start..(start + count)];

    /// <inheritdoc />
    public Tensor ConcatColumns(Tensor a, Tensor b) => cat([a, b], 1);

    /// <inheritdoc />
    public Tensor SpaceToDepth(Tensor x, ImageShape input)
        => x.view(x.shape[0], input.Channels, input.Height / 2, 2, input.Width / 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(x.shape[0], input.Size);

    /// <inheritdoc />
    public Tensor DepthToSpace(Tensor y, ImageShape input)
        => y.view(y.shape[0], input.Channels, 2, 2, input.Height / 2, input.Width / 2).permute(0, 1, 4, 2, 5, 3).reshape(y.shape[0], input.Size);
}
