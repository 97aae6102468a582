using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Layers;
using Invertible.Torch.LogDet;
using static TorchSharp.torch;

namespace Invertible.Tests.LogDet;

/// <summary><see cref="LogDetMethod.FixedProbeSeries"/>, the deterministic evaluation estimator of large images, on a
/// convolutional branch of 2×4×4 images with hard kernels.</summary>
[TestClass]
public sealed class FixedProbeSeriesTests
{
    private static readonly ImageShape Image = new(2, 4, 4);

    private static ContractiveMlp Branch()
    {
        var g = ContractiveMlp.Convolutional(Image, 6, 2, 0.95, dtype: ScalarType.Float64, generator: new Generator(13));
        using (no_grad())
            foreach (var p in g.parameters())
                p.copy_(randn_like(p).mul(2)); // hard: every convolution at the cap
        g.eval();
        return g;
    }

    private static Tensor LogDet(ContractiveMlp g, Tensor x, LogDetOptions options)
        => options.CreateEstimator().Evaluate(g, x, g.EffectiveParameters().ToArray(), false).LogDet;

    private static LogDetOptions Fixed(int seed, int probes = 1, int terms = 6) => new()
    {
        Method = LogDetMethod.FixedProbeSeries, Terms = terms, Probes = probes, Probe = TraceProbe.Rademacher, ProbeSeed = seed,
    };

    [TestMethod]
    public void IsDeterministic_AndARowsValueDoesNotDependOnItsBatch()
    {
        var g = Branch();
        var x = randn(9, Image.Size, dtype: ScalarType.Float64);
        var batched = LogDet(g, x, Fixed(3, probes: 2));
        Check.Identical(LogDet(g, x, Fixed(3, probes: 2)), batched, "the same call twice");
        for (var row = 0; row < 9; row += 4)
            Check.Close(LogDet(g, x[row..(row + 1)], Fixed(3, probes: 2))[0].ReadDouble(), batched[row].ReadDouble(), 1e-12, $"row {row} alone vs in the batch");
        Assert.IsTrue(LogDet(g, x, Fixed(4, probes: 2)).sub(batched).abs().max().ReadDouble() > 1e-6, "another seed draws other probes");
    }

    [TestMethod]
    public void Equals_TheSeriesOfItsProbesOnTheDenseJacobian()
    {
        var g = Branch();
        var x = randn(3, Image.Size, dtype: ScalarType.Float64, generator: new Generator(8));
        var jacobian = Jacobians.Of(g, x, g.EffectiveParameters().ToArray(), false);
        // The definition: Rademacher probes drawn in float64 from the seed, (1/P) Σ_p Σ_k (−1)^{k+1} v_pᵀ J^k v_p / k.
        var probes = randint(0, 2, [3, Image.Size], dtype: ScalarType.Float64, generator: new Generator(21)).mul(2).sub(1);
        var expected = zeros(3, dtype: ScalarType.Float64);
        for (var p = 0; p < 3; p++)
        {
            var v = probes[p].expand(3, Image.Size);
            var w = v;
            for (var k = 1; k <= 6; k++)
            {
                w = w.unsqueeze(1).bmm(jacobian).squeeze(1);
                expected = expected.add(w.mul(v).sum(1).mul((k % 2 == 1 ? 1.0 : -1.0) / (3 * k)));
            }
        }
        Check.TensorsClose(LogDet(g, x, Fixed(21, probes: 3)), expected, 1e-10, "fixed-probe series vs its definition");
    }

    [TestMethod]
    public void OverProbeSeeds_AveragesToTheExactTraceSeries_AndItsSpreadIsStated()
    {
        var g = Branch();
        var x = randn(4, Image.Size, dtype: ScalarType.Float64, generator: new Generator(2));
        var exactSeries = LogDet(g, x, new LogDetOptions { Method = LogDetMethod.ExactTraceSeries, Terms = 6 });
        var estimates = stack(Enumerable.Range(0, 400).Select(seed => LogDet(g, x, Fixed(seed))).ToArray());
        var (mean, spread) = (estimates.mean([0]), estimates.std(0));
        var standardError = spread.div(Math.Sqrt(400));
        Assert.IsTrue(spread.min().ReadDouble() > 1e-3, "the probes matter (a hard branch has off-diagonal Jacobian entries)");
        Check.AtMost(mean.sub(exactSeries).abs().div(standardError).max().ReadDouble(), 4.5, "|mean − exact series| in standard errors (unbiased in the probes)");
        // Four probes cut the spread by two: the estimator averages them.
        var four = stack(Enumerable.Range(0, 400).Select(seed => LogDet(g, x, Fixed(1000 + seed, probes: 4))).ToArray()).std(0);
        Check.Close(four.div(spread).mean().ReadDouble(), 0.5, 0.1, "spread with 4 probes ÷ with 1");
    }
}
