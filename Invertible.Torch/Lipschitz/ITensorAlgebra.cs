using Invertible.Torch.Core;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>
/// The arithmetic a formula needs, over some representation of tensors: TorchSharp tensors (<see cref="TensorAlgebra"/>)
/// or the value names of an ONNX graph. A formula written once against this interface runs in TorchSharp and is emitted
/// into exported graphs, so the two cannot drift apart.
/// </summary>
/// <typeparam name="T">The representation of a tensor.</typeparam>
internal interface ITensorAlgebra<T>
{
    /// <summary>A scalar constant of the working type.</summary>
    T Constant(double value);

    /// <summary>a · c for a constant c.</summary>
    T Scale(T a, double factor);

    /// <summary>a + b (broadcasting).</summary>
    T Add(T a, T b);

    /// <summary>a − b (broadcasting).</summary>
    T Sub(T a, T b);

    /// <summary>a ⊙ b (broadcasting).</summary>
    T Mul(T a, T b);

    /// <summary>a / b (broadcasting).</summary>
    T Div(T a, T b);

    /// <summary>1 / (1 + e⁻ᵃ) elementwise.</summary>
    T Sigmoid(T a);

    /// <summary>tanh a elementwise.</summary>
    T Tanh(T a);

    /// <summary>ELU with α = 1: a for a &gt; 0, eᵃ − 1 otherwise.</summary>
    T Elu(T a);

    /// <summary>eᵃ elementwise.</summary>
    T Exp(T a);

    /// <summary>ln a elementwise.</summary>
    T Log(T a);

    /// <summary>min(a, b) elementwise (broadcasting).</summary>
    T Min(T a, T b);

    /// <summary>Σⱼ aᵢⱼ² for each row i of a [rows, columns] tensor: [rows].</summary>
    T RowSumOfSquares(T a);

    /// <summary>Σⱼ aᵢⱼ for each row i of a [rows, columns] tensor: [rows].</summary>
    T RowSum(T a);

    /// <summary>Softmax over each row of a [rows, columns] tensor.</summary>
    T RowSoftmax(T a);

    /// <summary>The index (int64) of each row's largest entry of a [rows, columns] tensor: [rows].</summary>
    T RowArgMax(T a);

    /// <summary>The only column of a [rows, 1] tensor: [rows].</summary>
    T OnlyColumn(T a);

    /// <summary>a &gt; 0 elementwise (Boolean).</summary>
    T IsPositive(T a);

    /// <summary>A layer's weight as this representation holds it: the (differentiable) tensor itself, or a graph
    /// initializer with its current value named after <paramref name="name"/>.</summary>
    T Weight(Tensor value, string name);

    /// <summary>The sum of every entry: a scalar.</summary>
    T SumAll(T a);

    /// <summary>Σⱼ aᵢⱼ vⱼ for each row i of a [rows, columns] tensor and a [columns] vector: [rows].</summary>
    T RowDot(T a, T vector);

    /// <summary>cᵢ vⱼ for [rows] values c and a [columns] vector v: [rows, columns].</summary>
    T Outer(T perRow, T vector);

    /// <summary>x Wᵀ + b for rows x, a weight W (out × in) and an optional bias b.</summary>
    T Linear(T x, T weight, T? bias);

    /// <summary>c − x Wᵀ in one product (the last step of an inverse iteration y − g(x)).</summary>
    T SubtractLinear(T from, T x, T weight);

    /// <summary>a @ b (batched over leading dimensions).</summary>
    T MatMul(T a, T b);

    /// <summary>m ⊙ d per row: [batch, n, h] matrices with their columns scaled by [batch, h] values.</summary>
    T ScaleColumns(T matrices, T perColumn);

    /// <summary>The trace of each [size, size] matrix of a [batch, size, size] tensor: [batch].</summary>
    T Trace(T matrices, int size);

    /// <summary>The [size, size] identity matrix.</summary>
    T Identity(int size);

    /// <summary>log|det M| of each matrix of a [batch, size, size] tensor: [batch].</summary>
    T LogAbsDeterminant(T matrices);

    /// <summary>A same convolution of flat channel-major rows: [batch, input size] → [batch, output size].</summary>
    T Convolve(T x, T kernel, T? bias, ConvolutionGeometry geometry);

    /// <summary>The transposed convolution (the adjoint, no bias): [batch, output size] → [batch, input size].</summary>
    T ConvolveTransposed(T w, T kernel, ConvolutionGeometry geometry);

    /// <summary>The convolution's dense matrix [output size, input size], for Jacobians of small images.</summary>
    T ConvolutionMatrix(T kernel, ConvolutionGeometry geometry);

    /// <summary>Per-channel values [channels] spread over every pixel of their channel: [image size], channel-major.</summary>
    T PerChannel(T values, ImageShape image);

    /// <summary>Space-to-depth by 2 of flat image rows of <paramref name="input"/>'s shape: each 2×2 block of pixels
    /// becomes four channels (channel c·4 + 2i + j holds pixel (2y + i, 2x + j) of channel c), [batch, size] → [batch, size].</summary>
    T SpaceToDepth(T x, ImageShape input);

    /// <summary>Columns [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of every row: [batch, count].</summary>
    T Columns(T a, int start, int count);

    /// <summary>The rows of <paramref name="a"/> followed by those of <paramref name="b"/>: [batch, a's + b's columns].</summary>
    T ConcatColumns(T a, T b);

    /// <summary>The inverse of <see cref="SpaceToDepth"/> for rows of the image shape <paramref name="input"/> had before it.</summary>
    T DepthToSpace(T y, ImageShape input);
}
