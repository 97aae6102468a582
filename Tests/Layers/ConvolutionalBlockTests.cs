using Invertible.Tests.Support;
using Invertible.Torch.Checks;
using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.LogDet;
using Invertible.Torch.Onnx;
using Invertible.Torch.Solvers;
using Invertible.Torch.Training;
using static TorchSharp.torch;

namespace Invertible.Tests.Layers;

/// <summary>
/// Invertible residual blocks whose branch is convolutional (<see cref="ContractiveMlp.Convolutional"/>) on small images:
/// the same formulas as the dense branch, evaluated on convolution stages — Jacobian, log-determinants, inverse, implicit
/// gradients and the exported graph each checked against an independent reference.
/// </summary>
[TestClass]
public sealed class ConvolutionalBlockTests
{
    private static readonly ImageShape Image = new(2, 4, 4);

    /// <summary>A branch 3×3 → 1×1 → 3×3 with kernels large enough that every normalisation is active.</summary>
    private static ContractiveMlp Branch(ScalarType dtype, int seed, double coefficient = 0.9)
    {
        var branch = ContractiveMlp.Convolutional(Image, 4, 3, coefficient, dtype: dtype, generator: new Generator((ulong)seed));
        using (no_grad())
            foreach (var parameter in branch.parameters().Where(p => p.dim() == 4))
                parameter.mul_(3);
        return branch;
    }

    private static Tensor FiniteDifferenceJacobian(Func<Tensor, Tensor> f, Tensor x)
    {
        const double h = 1e-6;
        var columns = new List<Tensor>();
        using var _ = no_grad();
        for (var j = 0; j < x.shape[1]; j++)
        {
            var e = zeros_like(x);
            e[0, j] = tensor(h, dtype: x.dtype);
            columns.Add(f(x.add(e)).sub(f(x.sub(e))).div(2 * h)[0]);
        }
        return stack(columns, 1);
    }

    [TestMethod]
    public void Jacobian_MatchesFiniteDifferences_AndItsNormIsWithinTheBound()
    {
        var branch = Branch(ScalarType.Float64, 1);
        branch.eval();
        var parameters = branch.EffectiveParameters().ToArray();
        var x = randn(1, Image.Size, dtype: ScalarType.Float64);
        var (_, jacobian) = branch.OutputAndJacobian(x, parameters);
        var reference = FiniteDifferenceJacobian(input => branch.Apply(input, parameters), x);
        Check.TensorsClose(jacobian[0], reference, 1e-7, "J_g from the convolution stages vs central differences");
        var bound = branch.LipschitzBound();
        Check.AtMost(bound, Math.Pow(0.9, 3) * (1 + 1e-6), "product of the convolutions' operator norms");
        Check.AtMost(linalg.matrix_norm(reference, 2).ToDouble(), bound * (1 + 1e-6), "‖J_g(x)‖₂ within Lip(g)");
    }

    [TestMethod]
    public void VectorJacobian_IsTheTransposedJacobian()
    {
        var branch = Branch(ScalarType.Float64, 2);
        branch.eval();
        var parameters = branch.EffectiveParameters().ToArray();
        var x = randn(3, Image.Size, dtype: ScalarType.Float64);
        var w = randn(3, Image.Size, dtype: ScalarType.Float64);
        var (_, vjp) = branch.OutputAndVectorJacobian(x, parameters);
        var (_, jacobian) = branch.OutputAndJacobian(x, parameters);
        Check.TensorsClose(vjp(w), w.unsqueeze(1).bmm(jacobian).squeeze(1), 1e-10, "wᵀJ by transposed convolutions vs by the dense Jacobian");
    }

    /// <summary>The folded evaluation form's inverse map x ↦ y − g(x) (per-channel bias spread over the image, the
    /// subtraction inside the last convolution) is y − g(x) of the unfolded branch.</summary>
    [TestMethod]
    public void FoldedInverseMap_IsYMinusTheBranch()
    {
        var branch = Branch(ScalarType.Float64, 11);
        branch.eval();
        var parameters = branch.EffectiveParameters().ToArray();
        var (x, y) = (randn(5, Image.Size, dtype: ScalarType.Float64), randn(5, Image.Size, dtype: ScalarType.Float64));
        using var _ = no_grad();
        var map = branch.Folded().InverseIterationMap(y);
        Check.TensorsClose(map(x), y.sub(branch.Apply(x, parameters)), 1e-10, "folded y − g(x) vs y − g(x) of the training form");
    }

    [TestMethod]
    public void ExactLogDet_MatchesTheFiniteDifferenceJacobian()
    {
        var block = new ResidualBlock(Branch(ScalarType.Float64, 3));
        block.eval();
        var x = randn(2, Image.Size, dtype: ScalarType.Float64);
        using var _ = no_grad();
        var (_, logDet) = block.ForwardWithLogDet(x);
        for (var row = 0; row < 2; row++)
        {
            var jacobian = FiniteDifferenceJacobian(input => block.forward(input), x[row].unsqueeze(0));
            Check.Close(logDet[row].ToDouble(), linalg.slogdet(jacobian).Item2.ToDouble(), 1e-6, $"row {row}: log|det(I + J_g)|");
        }
    }

    [TestMethod]
    public void PowerSeriesEstimator_IsUnbiasedForTheExactTraceSeries_On4x4x2()
    {
        var branch = Branch(ScalarType.Float64, 4);
        branch.eval();
        var parameters = branch.EffectiveParameters().ToArray();
        var x = randn(1, Image.Size, dtype: ScalarType.Float64);
        var exact = new ExactTraceSeriesLogDet(6).Evaluate(branch, x, parameters, false).LogDet.ToDouble();
        var estimator = new LogDetOptions { Method = LogDetMethod.PowerSeries, Terms = 6, Probes = 1, Probe = TraceProbe.Rademacher }.CreateEstimator();
        var generator = new Generator(9);
        var samples = Enumerable.Range(0, 2000).Select(_ => estimator.Evaluate(branch, x, parameters, false, generator).LogDet.ToDouble()).ToArray();
        var mean = samples.Average();
        var standardError = Math.Sqrt(samples.Select(s => (s - mean) * (s - mean)).Sum() / (samples.Length - 1) / samples.Length);
        Check.AtMost(Math.Abs(mean - exact) / standardError, 3, $"|mean − exact series| in standard errors (mean {mean:F5}, exact {exact:F5})");
    }

    [TestMethod]
    public void TrainedBlock_Float32_InverseReconstructs()
    {
        manual_seed(5);
        var block = new ResidualBlock(ContractiveMlp.Convolutional(Image, 8, 3, 0.9, generator: new Generator(5)));
        var data = randn(64, Image.Size).mul(2);
        var target = data.flip(1).tanh();
        var optimizer = optim.Adam(block.parameters(), 1e-2);
        for (var step = 0; step < 50; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            block.forward(data).sub(target).square().mean().backward();
            optimizer.step();
        }
        block.eval();
        var x = randn(33, Image.Size);
        using var _ = no_grad();
        var y = block.forward(x);
        var reconstructed = block.Inverse(y, ImplicitOptions.Both(new FixedPointOptions { Tolerance = 1e-6 }));
        Check.AtMost(Check.MaxAbsDiff(reconstructed, x), 1e-4, "‖F⁻¹(F(x)) − x‖∞, float32");
        Check.Less(0.1, Check.MaxAbsDiff(y, x), "the trained block is far from the identity");
    }

    [TestMethod]
    public void InverseGradients_MatchFiniteDifferences_Float64()
    {
        var block = new ResidualBlock(Branch(ScalarType.Float64, 6, coefficient: 0.8));
        block.eval();
        var y = randn(2, Image.Size, dtype: ScalarType.Float64).requires_grad_(true);
        var w = randn(2, Image.Size, dtype: ScalarType.Float64);
        var kernel = block.parameters().First(p => p.dim() == 4);
        var precise = ImplicitOptions.Both(new FixedPointOptions { Tolerance = 1e-13, MaxIterations = 2000 });
        GradientCheck.AgainstFiniteDifferences(() => block.Inverse(y, precise).mul(w).sum(), [y, kernel], relativeTolerance: 1e-5);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(33)]
    public void Onnx_ForwardAndInverse_MatchTorchSharp(int batch)
    {
        var stack = new ResidualStack([new ResidualBlock(Branch(ScalarType.Float32, 7)), new ResidualBlock(Branch(ScalarType.Float32, 8))]);
        stack.eval();
        var x = randn(batch, Image.Size, generator: new Generator(10));
        Tensor y, inverse;
        using (no_grad())
        {
            y = stack.forward(x);
            inverse = stack.Inverse(y);
        }
        var forward = OnnxRunner.Run(ResidualStackExporter.ExportForward(stack), ("x", x));
        Check.TensorsClose(forward["y"], y, 1e-5, $"batch {batch}: forward (Conv) vs TorchSharp");
        var outputs = OnnxRunner.Run(ResidualStackExporter.ExportInverse(stack), ("y", y));
        Check.TensorsClose(outputs["x"], inverse, 1e-5, $"batch {batch}: inverse loop vs TorchSharp");
        Check.TensorsClose(outputs["x"], x, 1e-4, $"batch {batch}: inverse loop vs the original images");
    }
}
