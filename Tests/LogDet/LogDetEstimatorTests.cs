using Invertible.Tests.Support;
using Invertible.Torch;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.LogDet;
using static TorchSharp.torch;

namespace Invertible.Tests.LogDet;

[TestClass]
public sealed class LogDetEstimatorTests
{
    private static ContractiveMlp Mlp(int features, double coefficient, int hidden = 16)
    {
        var g = new ContractiveMlp(features, hidden, 2, coefficient, dtype: ScalarType.Float64);
        g.eval();
        return g;
    }

    private static Tensor Exact(ContractiveMlp g, Tensor x) => new ExactLogDet().Evaluate(g, x, g.EffectiveParameters().ToArray(), false).LogDet;

    /// <summary>Hides the analytic Jacobian so that the autograd path is exercised.</summary>
    private sealed class Opaque(IFunctionalLayer inner) : IFunctionalLayer
    {
        public int ParameterCount => inner.ParameterCount;
        public IEnumerable<Tensor> EffectiveParameters() => inner.EffectiveParameters();
        public Tensor Apply(Tensor input, ReadOnlySpan<Tensor> parameters) => inner.Apply(input, parameters);
    }

    [TestMethod]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(4)]
    public void Exact_AnalyticAndAutogradJacobians_Agree(int depth)
    {
        manual_seed(51);
        var g = new ContractiveMlp(5, 16, depth, 0.9, LipschitzActivation.LipSwish, dtype: ScalarType.Float64);
        using (no_grad())
        {
            foreach (var p in g.parameters())
                p.copy_(randn_like(p).mul(0.5));
        }
        g.eval();
        var x = randn(6, 5, dtype: ScalarType.Float64);
        var parameters = g.EffectiveParameters().ToArray();
        Check.TensorsClose(Jacobians.Of(new Opaque(g), x, parameters, false), Jacobians.Of(g, x, parameters, false), 1e-12, "analytic vs autograd Jacobian");
        Check.TensorsClose(new ExactLogDet().Evaluate(new Opaque(g), x, parameters, false).LogDet, Exact(g, x), 1e-12, "log-determinants");
    }

    /// <summary>
    /// Σ_{k&gt;n} s^k / k = −ln(1 − s) − Σ_{k≤n} s^k / k: the truncation bound of the series after n terms when every
    /// singular value is at most s.
    /// </summary>
    private static double SeriesTail(double s, int terms) => -Math.Log(1 - s) - Enumerable.Range(1, terms).Sum(k => Math.Pow(s, k) / k);

    [TestMethod]
    [DataRow(0.5, 2)]
    [DataRow(0.5, 5)]
    [DataRow(0.9, 5)]
    [DataRow(0.9, 10)]
    public void PowerSeriesWithExactTraces_MatchesSlogdet_WithinTruncationBound(double coefficient, int terms)
    {
        manual_seed(52);
        const int features = 6;
        var g = Mlp(features, coefficient);
        var x = randn(16, features, dtype: ScalarType.Float64).mul(2);
        var parameters = g.EffectiveParameters().ToArray();
        var series = new ExactTraceSeriesLogDet(terms).Evaluate(g, x, parameters, false).LogDet;
        var exact = Exact(g, x);
        // |Σ_{k>n} (−1)^{k+1} tr(J^k) / k| ≤ Σ_{k>n} Σ_i σ_i^k / k, since |tr(J^k)| ≤ Σ_i |λ_i|^k ≤ Σ_i σ_i^k (Weyl). With the
        // measured singular values of each row's Jacobian this is tight enough that a missing last term exceeds it; the
        // certified c alone is far looser (‖J‖ is well below c for random weights).
        var singularValues = linalg.svdvals(Jacobians.Of(g, x, parameters, false));
        for (var row = 0; row < x.shape[0]; row++)
        {
            var values = singularValues[row].data<double>().ToArray();
            Check.Less(values.Max(), 1, "a contraction");
            var bound = values.Sum(s => SeriesTail(s, terms));
            Check.AtMost(Math.Abs(series[row].ToDouble() - exact[row].ToDouble()), bound, $"row {row}: series with {terms} terms, ‖J‖ = {values.Max():F3}");
        }
    }

    /// <summary>Mean and standard error over the copies of each row; returns the largest |mean − reference| / SE.</summary>
    private static double WorstZScore(Tensor estimates, Tensor reference)
    {
        var mean = estimates.mean([0]);
        var standardError = estimates.std(0).div(Math.Sqrt(estimates.shape[0]));
        return mean.sub(reference).abs().div(standardError).max().ToDouble();
    }

    [TestMethod]
    [DataRow(TraceProbe.Gaussian)]
    [DataRow(TraceProbe.Rademacher)]
    public void Hutchinson_IsUnbiasedForTheTruncatedSeries(TraceProbe probe)
    {
        manual_seed(53);
        var g = Mlp(4, 0.8);
        var x = randn(3, 4, dtype: ScalarType.Float64);
        const int copies = 4000;
        var replicated = x.repeat(copies, 1);
        var options = new LogDetOptions { Method = LogDetMethod.PowerSeries, Terms = 5, Probe = probe };
        var estimates = options.CreateEstimator().Evaluate(g, replicated, g.EffectiveParameters().ToArray(), false).LogDet.view(copies, 3);
        var reference = new ExactTraceSeriesLogDet(5).Evaluate(g, x, g.EffectiveParameters().ToArray(), false).LogDet;
        Check.AtMost(WorstZScore(estimates, reference), 3, $"{probe}: |mean − series| in standard errors");
    }

    [TestMethod]
    public void RussianRoulette_IsUnbiasedForTheExactLogDet()
    {
        manual_seed(54);
        var g = Mlp(4, 0.9);
        var x = randn(3, 4, dtype: ScalarType.Float64);
        var estimator = new LogDetOptions { Method = LogDetMethod.RussianRoulette, ExactTerms = 1, RouletteProbability = 0.5 }.CreateEstimator();
        var parameters = g.EffectiveParameters().ToArray();
        // The truncation is drawn once per call, so every draw is its own call (on 20 copies of the rows).
        var draws = Enumerable.Range(0, 600).Select(_ => estimator.Evaluate(g, x.repeat(20, 1), parameters, false).LogDet.view(20, 3)).ToArray();
        Check.AtMost(WorstZScore(cat(draws, 0), Exact(g, x)), 3, "|mean − exact| in standard errors");
    }

    private static Tensor[] LogDetGradients(ILogDetEstimator estimator, ContractiveMlp g, Tensor x, int copies)
    {
        var input = x.clone().requires_grad_(true);
        var logDet = estimator.Evaluate(g, input.repeat(copies, 1), g.EffectiveParameters().ToArray(), true).LogDet;
        // The last bias does not enter the Jacobian: allow unused inputs (a native abort otherwise) and count them as zero.
        Tensor[] inputs = [input, .. g.parameters()];
        var grads = autograd.grad([logDet.sum().div(copies)], inputs, allow_unused: true);
        return inputs.Select((t, i) => grads[i] is { IsInvalid: false } grad ? grad : zeros_like(t)).ToArray();
    }

    private static double RelativeError(Tensor[] actual, Tensor[] expected)
    {
        var difference = Math.Sqrt(actual.Zip(expected, (a, e) => a.sub(e).square().sum().ToDouble()).Sum());
        var scale = Math.Sqrt(expected.Sum(e => e.square().sum().ToDouble()));
        return difference / scale;
    }

    [TestMethod]
    public void Gradients_OfEveryEstimator_MatchExactLogDetGradients_Float64()
    {
        manual_seed(55);
        var g = Mlp(4, 0.6);
        var x = randn(3, 4, dtype: ScalarType.Float64);
        var exact = LogDetGradients(new ExactLogDet(), g, x, 1);
        Check.AtMost(RelativeError(LogDetGradients(new ExactTraceSeriesLogDet(40), g, x, 1), exact), 1e-9, "exact-trace series (40 terms)");

        var stochastic = new (string Name, LogDetOptions Options)[]
        {
            ("power series, backprop", new() { Method = LogDetMethod.PowerSeries, Terms = 30, NeumannGradient = false, Probe = TraceProbe.Rademacher }),
            ("power series, Neumann", new() { Method = LogDetMethod.PowerSeries, Terms = 30, NeumannGradient = true, Probe = TraceProbe.Rademacher }),
            ("Russian roulette, Neumann", new() { Method = LogDetMethod.RussianRoulette, ExactTerms = 4, NeumannGradient = true, Probe = TraceProbe.Rademacher }),
            ("Russian roulette, backprop", new() { Method = LogDetMethod.RussianRoulette, ExactTerms = 4, NeumannGradient = false, Probe = TraceProbe.Rademacher }),
        };
        foreach (var (name, options) in stochastic)
        {
            var estimator = options.CreateEstimator();
            var rounds = Enumerable.Range(0, 20).Select(_ => LogDetGradients(estimator, g, x, 500)).ToArray();
            var averaged = Enumerable.Range(0, exact.Length).Select(i => stack(rounds.Select(r => r[i]).ToArray()).mean([0])).ToArray();
            Check.AtMost(RelativeError(averaged, exact), 0.03, $"{name}: averaged gradient vs exact");
        }
    }

    /// <summary>
    /// The closed-form product wᵀJ (<see cref="IVectorJacobianLayer"/>) gives the same estimate and the same gradients —
    /// in the input, every weight and LipSwish's β ≠ 1, second order included — as autograd's VJP, draw for draw.
    /// </summary>
    [TestMethod]
    [DataRow(LipschitzActivation.LipSwish, 2)]
    [DataRow(LipschitzActivation.LipSwish, 3)]
    [DataRow(LipschitzActivation.Tanh, 3)]
    [DataRow(LipschitzActivation.Elu, 2)]
    public void Series_ClosedFormAndAutogradVectorJacobianProducts_Agree(LipschitzActivation activation, int depth)
    {
        manual_seed(57);
        var g = new ContractiveMlp(4, 12, depth, 0.9, activation, dtype: ScalarType.Float64);
        using (no_grad())
        {
            foreach (var p in g.parameters())
                p.copy_(randn_like(p).mul(0.5));
        }
        g.eval();
        var x = randn(5, 4, dtype: ScalarType.Float64);
        var methods = new (string Name, LogDetOptions Options)[]
        {
            ("power series, backprop", new() { Method = LogDetMethod.PowerSeries, Terms = 6, NeumannGradient = false }),
            ("power series, Neumann", new() { Method = LogDetMethod.PowerSeries, Terms = 6, NeumannGradient = true, Probes = 2 }),
            ("Russian roulette, backprop", new() { Method = LogDetMethod.RussianRoulette, ExactTerms = 2, NeumannGradient = false, Probe = TraceProbe.Rademacher }),
        };
        Tensor[] inputs = [x, .. g.parameters()];
        foreach (var (name, options) in methods)
        {
            var estimator = options.CreateEstimator();
            Tensor[] Run(IFunctionalLayer layer, bool differentiable)
            {
                var input = x.clone().requires_grad_(differentiable);
                var evaluation = estimator.Evaluate(layer, input, g.EffectiveParameters().ToArray(), differentiable, new Generator(58));
                if (!differentiable)
                    return [evaluation.LogDet, evaluation.Residual];
                var wrt = new[] { input }.Concat(g.parameters()).ToArray();
                var grads = autograd.grad([evaluation.LogDet.mul(arange(1, 6, dtype: ScalarType.Float64)).sum()], wrt, allow_unused: true);
                return [evaluation.LogDet, evaluation.Residual, .. wrt.Select((t, i) => grads[i] is { IsInvalid: false } grad ? grad : zeros_like(t))];
            }
            foreach (var differentiable in new[] { true, false })
            {
                var closed = Run(g, differentiable);
                var reference = Run(new Opaque(g), differentiable);
                Check.TensorsClose(closed[0], reference[0], 1e-12, $"{name}: log-det (differentiable {differentiable})");
                Check.TensorsClose(closed[1], reference[1], 1e-12, $"{name}: residual");
                for (var i = 2; i < closed.Length; i++)
                    Check.TensorsClose(closed[i], reference[i], 1e-10, $"{name}: gradient of input {i - 2} of {inputs.Length}");
                Assert.IsTrue(closed.Skip(2).Any(t => t.abs().max().ToDouble() > 1e-3) || !differentiable, "the gradients are not all zero");
                Assert.AreEqual(differentiable, closed[0].requires_grad, $"{name}: the estimate carries a graph only when differentiable");
            }
        }
    }

    [TestMethod]
    public void InvalidOptions_AreRejectedByName()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LogDetOptions { Terms = 0 }.CreateEstimator()).Message, "Terms");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LogDetOptions { RouletteProbability = 1 }.CreateEstimator()).Message, "RouletteProbability");
    }
}
