using Invertible.Tests.Support;
using Invertible.Torch.Data;
using static TorchSharp.torch;

namespace Invertible.Tests.Data;

/// <summary>
/// The exact log-densities behind the README's reference NLLs, checked against their definitions (written out here
/// by hand) and against the generators.
/// </summary>
[TestClass]
public sealed class ToyDensitiesTests
{
    // 8-gaussians as documented: centres at radius 4 every 45°, σ = 0.5, everything divided by √2.
    private static readonly double CentreRadius = 4 / Math.Sqrt(2), ComponentSigma = 0.5 / Math.Sqrt(2);

    /// <summary>−∫ p ln p of the 8-gaussians by a float64 midpoint sum on a 0.02 grid over [−6, 6]²; the overlap of
    /// neighbouring components makes it 0.006 below ln 8 + 1 + ln(2πσ²) = 2.8379.</summary>
    private const double EightGaussiansEntropy = 2.8316;

    private static (double X, double Y) Centre(int k) => (CentreRadius * Math.Cos(k * Math.PI / 4), CentreRadius * Math.Sin(k * Math.PI / 4));

    private static double ComponentLogProb(double x, double y, (double X, double Y) centre)
    {
        var s2 = ComponentSigma * ComponentSigma;
        return -((x - centre.X) * (x - centre.X) + (y - centre.Y) * (y - centre.Y)) / (2 * s2) - Math.Log(2 * Math.PI * s2);
    }

    private static double[] LogProbs(Func<Tensor, Tensor> logProb, params (double X, double Y)[] points) =>
        logProb(tensor(points.SelectMany(p => new[] { p.X, p.Y }).ToArray(), [points.Length, 2], ScalarType.Float64)).data<double>().ToArray();

    /// <summary>Σ exp(log p) h² over the midpoints of a grid of step h on [−half, half]².</summary>
    private static double GridIntegral(Func<Tensor, Tensor> logProb, double half, double step)
    {
        var axis = arange(-half + step / 2, half, step, dtype: ScalarType.Float64);
        var grid = meshgrid([axis, axis], indexing: "ij");
        var points = stack([grid[0].flatten(), grid[1].flatten()], 1);
        return logProb(points).exp().sum().ToDouble() * step * step;
    }

    [TestMethod]
    public void EightGaussians_DensityIntegratesToOne()
    {
        // The outermost centre coordinate is 2.83 and σ = 0.354: [−6, 6]² leaves out less than 1e-15 of the mass.
        Check.Close(GridIntegral(ToyDensities.EightGaussiansLogProb, 6, 0.02), 1, 1e-9, "∫ p over [−6, 6]²");
    }

    [TestMethod]
    public void Checkerboard_DensityIntegratesToOne()
    {
        // No grid midpoint lies on a square's edge, so the sum is exact.
        Check.Close(GridIntegral(ToyDensities.CheckerboardLogProb, 5, 0.02), 1, 1e-9, "∫ p over [−5, 5]²");
    }

    [TestMethod]
    public void EightGaussians_AtEveryCentre_EqualsTheClosedForm()
    {
        // Seen from a centre, the k-th next centre is a chord d_k = 2r sin(kπ/8) away: p = Σ_k exp(−d_k²/2σ²) / (8 · 2πσ²).
        var s2 = ComponentSigma * ComponentSigma;
        var expected = Math.Log(Enumerable.Range(0, 8).Sum(k =>
        {
            var chord = 2 * CentreRadius * Math.Sin(k * Math.PI / 8);
            return Math.Exp(-chord * chord / (2 * s2));
        }) / (2 * Math.PI * s2 * 8));
        var actual = LogProbs(ToyDensities.EightGaussiansLogProb, [.. Enumerable.Range(0, 8).Select(Centre)]);
        for (var k = 0; k < 8; k++)
            Check.Close(actual[k], expected, 1e-12, $"log p at centre {k}");
    }

    [TestMethod]
    public void EightGaussians_FarFromEveryCentre_IsTheNearestComponentMinusLn8()
    {
        // Far enough that the second-nearest component is > 20 nats below the nearest; the last two points are so far
        // that every exp(log N) underflows, which a log-sum-exp has to survive.
        (double X, double Y)[] points = [(6, 1), (-1, -6.5), (-4.5, 4), (40, 30), (-60, -5)];
        var actual = LogProbs(ToyDensities.EightGaussiansLogProb, points);
        for (var i = 0; i < points.Length; i++)
        {
            var (x, y) = points[i];
            var nearest = Enumerable.Range(0, 8).Max(k => ComponentLogProb(x, y, Centre(k)));
            Check.Close(actual[i], nearest - Math.Log(8), 1e-8 * Math.Max(1, Math.Abs(nearest)), $"log p at ({x}, {y})");
        }
    }

    [TestMethod]
    public void Checkerboard_IsMinusLn32OnTheWhiteSquares_AndMinusInfinityOnTheBlackOnesAndOutside()
    {
        // The generator fills the square [2c, 2c + 2) × [2r, 2r + 2), c, r ∈ {−2, …, 1}, exactly when c + r is even.
        var squares = from c in Enumerable.Range(-2, 4) from r in Enumerable.Range(-2, 4) select (c, r, White: (c + r) % 2 == 0);
        var centres = squares.Select(s => (X: 2.0 * s.c + 1, Y: 2.0 * s.r + 1, s.White)).ToArray();
        // Next to the edges at 0, where flooring and truncating disagree.
        (double X, double Y, bool White)[] nearZero = [(0.01, 0.01, true), (-0.01, -0.01, true), (-0.01, 0.01, false), (0.01, -0.01, false)];
        (double X, double Y, bool White)[] outside = [(4.5, 1, false), (1, 4.2, false), (-4.01, -3, false), (-5, -5, false), (9, 9, false)];
        var cases = centres.Concat(nearZero).Concat(outside).ToArray();
        var actual = LogProbs(ToyDensities.CheckerboardLogProb, [.. cases.Select(c => (c.X, c.Y))]);
        for (var i = 0; i < cases.Length; i++)
            Assert.AreEqual(cases[i].White ? -Math.Log(32) : double.NegativeInfinity, actual[i], $"log p at ({cases[i].X}, {cases[i].Y})");
    }

    [TestMethod]
    public void EightGaussians_MeanNegativeLogProbOfGeneratedPoints_IsTheEntropy()
    {
        var points = ToyDensities.EightGaussians(200_000, new Generator(31), ScalarType.Float64);
        var nll = ToyDensities.EightGaussiansLogProb(points).neg();
        var standardError = nll.std().ToDouble() / Math.Sqrt(points.shape[0]);
        Check.Close(nll.mean().ToDouble(), EightGaussiansEntropy, 5 * standardError, "mean −log p over 200 000 points");
    }

    [TestMethod]
    public void Checkerboard_EveryGeneratedPointHasLogProbMinusLn32()
    {
        var points = ToyDensities.Checkerboard(200_000, new Generator(32), ScalarType.Float64);
        var logProb = ToyDensities.CheckerboardLogProb(points);
        Assert.AreEqual(0, logProb.isfinite().logical_not().sum().ToInt64(), "points with log p = −∞");
        Check.Close(logProb.neg().mean().ToDouble(), Math.Log(32), 1e-12, "mean −log p");
    }
}
