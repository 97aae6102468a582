using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Tests.Equilibrium;

/// <summary>
/// The convolutional monotone cell against its definition assembled densely in the spatial domain: A, B as circular
/// 3×3 convolutions (conv2d on the circularly padded image), their adjoints as the transposed dense matrices, the
/// injection as a zero-padded convolution — nothing of the cell's Fourier algebra.
/// </summary>
[TestClass]
public sealed class ConvolutionalMonotoneCellTests
{
    private const int Channels = 2;

    /// <summary>
    /// A cell with kernels large enough that I − W is far from m I (a trained cell's regime); at stride 1 on a 4×5
    /// image, at stride 2 on a 7×8 image (4×4 feature maps: odd and even sides of the strided injection).
    /// </summary>
    private static ConvolutionalMonotoneCell Cell(int stride = 1, double monotonicity = 0.3)
    {
        manual_seed(7);
        var image = stride == 1 ? new ImageShape(1, 4, 5) : new ImageShape(1, 7, 8);
        var cell = new ConvolutionalMonotoneCell(image, Channels, stride, monotonicity, ScalarType.Float64);
        using var _ = no_grad();
        var (a, b) = cell.Kernels;
        a.copy_(randn_like(a).Mul(0.8));
        b.copy_(randn_like(b).Mul(0.8));
        cell.Injection.bias!.copy_(tensor(new[] { 0.3, -0.2 }, dtype: ScalarType.Float64));
        return cell;
    }

    private static Tensor CircularConvolution(Tensor rows, Tensor kernel, ImageShape shape)
        => nn.functional.conv2d(nn.functional.pad(shape.Images(rows), [1, 1, 1, 1], PaddingModes.Circular), kernel).flatten(1);

    /// <summary>The dense matrix M of a linear map on state rows (r ↦ r Mᵀ).</summary>
    private static Tensor Dense(Func<Tensor, Tensor> map, int size) => map(eye(size, dtype: ScalarType.Float64)).t();

    /// <summary>I − W = m I + AᵀA − B + Bᵀ, assembled from spatial circular convolutions.</summary>
    private static Tensor Complement(ConvolutionalMonotoneCell cell)
    {
        var n = cell.StateFeatures;
        var a = Dense(r => CircularConvolution(r, cell.Kernels.A, cell.State), n);
        var b = Dense(r => CircularConvolution(r, cell.Kernels.B, cell.State), n);
        return eye(n, dtype: ScalarType.Float64).Mul(cell.Monotonicity).Add(a.t().mm(a)).sub(b).Add(b.t());
    }

    private static Tensor Injected(ConvolutionalMonotoneCell cell, Tensor x)
        => nn.functional.conv2d(cell.Input.Images(x), cell.Injection.weight!, cell.Injection.bias, strides: [cell.Stride, cell.Stride], padding: [1, 1]).flatten(1);

    /// <summary>α = 1/√(μ L) of the dense operator: μ the smallest eigenvalue of its symmetric part, L its largest singular value.</summary>
    private static double Step(Tensor complement)
        => 1 / Math.Sqrt(linalg.eigvalsh(complement.Add(complement.t()).Div(2)).min().ReadDouble() * linalg.svdvals(complement).max().ReadDouble());

    [TestMethod]
    public void Complement_IsStronglyMonotone_AndTheSpectrumIsTheSpatialOperator()
    {
        using var _ = no_grad();
        var cell = Cell();
        var complement = Complement(cell);
        var symmetric = complement.Add(complement.t()).Div(2);
        Check.AtMost(cell.Monotonicity - 1e-10, linalg.eigvalsh(symmetric).min().ReadDouble(), "m vs the smallest eigenvalue of the symmetric part of I − W");
        // The spectrum's largest singular value is the dense operator's (exact SVD).
        var dense = linalg.svdvals(complement).max().ReadDouble();
        Check.Close(HeldScalars.SpectralNorm(cell.ComplementSpectrum()).max().ReadDouble(), dense, 1e-10, "‖I − W‖₂ from the spectrum vs the dense SVD");
        Assert.IsTrue(dense > 3 * cell.Monotonicity, $"the test cell must be far from m I; ‖I − W‖ = {dense}");
    }

    /// <summary>T(s) = 2V(|s| + α b̃) − |s| with V = (I + α(I − W))⁻¹ and α = 1/√(μ L), V inverted densely.</summary>
    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void Apply_AndIterationMap_AreThePeacemanRachfordMapOfTheDenseOperator(int stride)
    {
        using var _ = no_grad();
        var cell = Cell(stride);
        cell.eval();
        var complement = Complement(cell);
        var n = cell.StateFeatures;
        var alpha = Step(complement);
        var resolvent = linalg.inv(eye(n, dtype: ScalarType.Float64).Add(complement.Mul(alpha)));
        manual_seed(3);
        var (s, x) = (randn(3, n, dtype: ScalarType.Float64), randn(3, cell.InputFeatures, dtype: ScalarType.Float64));
        var expected = s.abs().Add(Injected(cell, x).Mul(alpha)).mm(resolvent.t()).Mul(2).sub(s.abs());
        var parameters = cell.EffectiveParameters().ToArray();
        Check.TensorsClose(cell.Apply(s, x, parameters), expected, 1e-12, "Apply");
        Check.TensorsClose(((IEquilibriumFunction)cell).IterationMap(x, parameters)(s), expected, 1e-12, "IterationMap");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void Equilibrium_SolvesTheMonotoneFixedPointEquation(int stride)
    {
        var cell = Cell(stride);
        cell.eval();
        var layer = new EquilibriumLayer(cell, new EquilibriumOptions { Forward = new FixedPointOptions { Tolerance = 1e-12, MaxIterations = 500 } });
        manual_seed(5);
        var x = randn(4, cell.InputFeatures, dtype: ScalarType.Float64);
        using var _ = no_grad();
        var result = layer.Solve(x);
        Assert.IsTrue(result.Statistics.Forward.Converged, result.Statistics.ToString());
        var weight = eye(cell.StateFeatures, dtype: ScalarType.Float64).sub(Complement(cell));
        var z = result.State;
        Check.TensorsClose(z, nn.functional.relu(z.mm(weight.t()).Add(Injected(cell, x))), 1e-9, "z* = ReLU(W z* + U x + b)");
        var active = z.gt(0).to(ScalarType.Float64).mean().ReadDouble();
        Assert.IsTrue(active > 0.1 && active < 0.9, $"the test must have active and inactive units; active fraction {active}");
    }

    /// <summary>Implicit gradients of a loss of z* with respect to x, A, B, U and b against finite differences (float64).</summary>
    [TestMethod]
    public void ImplicitGradients_MatchFiniteDifferences_Float64()
    {
        var cell = Cell();
        var precise = new FixedPointOptions { Tolerance = 1e-13, MaxIterations = 1000 };
        var layer = new EquilibriumLayer(cell, new EquilibriumOptions { Forward = precise, Adjoint = precise, Gradient = EquilibriumBackward.Implicit });
        manual_seed(11);
        var x = randn(3, cell.InputFeatures, dtype: ScalarType.Float64).requires_grad_(true);
        var weights = randn(3, cell.StateFeatures, dtype: ScalarType.Float64);
        Tensor[] tensors = [x, cell.Kernels.A, cell.Kernels.B, cell.Injection.weight!, cell.Injection.bias!];
        var loss = layer.Solve(x).State.mul(weights).sum();
        var gradients = autograd.grad([loss], tensors).ToArray();
        double Loss()
        {
            using var _ = no_grad();
            return layer.Solve(x).State.mul(weights).sum().ReadDouble();
        }
        FiniteDifferences.CheckDirectionalDerivatives(tensors, gradients, Loss, 1e-4, 1e-6, "convolutional monotone cell");
    }

    /// <summary>The ONNX form of V: a valid convolution with the full-size kernel on the image wrapped from row and column 1.</summary>
    [TestMethod]
    public void ResolventKernel_OnTheWrappedImage_IsTheResolvent()
    {
        using var _ = no_grad();
        var cell = Cell();
        cell.eval();
        var complement = Complement(cell);
        var n = cell.StateFeatures;
        var alpha = Step(complement);
        var resolvent = linalg.inv(eye(n, dtype: ScalarType.Float64).Add(complement.Mul(alpha)));
        manual_seed(13);
        var r = randn(2, n, dtype: ScalarType.Float64);
        var images = cell.State.Images(r);
        var (h, w) = (cell.State.Height, cell.State.Width);
        var wrapped = cat([images[.., .., 1.., ..], images], 2);
        wrapped = cat([wrapped[.., .., .., 1..], wrapped], 3);
        var applied = nn.functional.conv2d(wrapped, cell.ResolventKernel()).flatten(1);
        Assert.AreEqual(h * w * cell.State.Channels, (int)applied.shape[1]);
        Check.TensorsClose(applied, r.mm(resolvent.t()), 1e-12, "conv2d with the resolvent kernel vs V");
    }
}
