using Invertible.Tests.Support;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Solvers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Tests.Equilibrium;

[TestClass]
public sealed class EquilibriumLayerTests
{
    /// <summary>The forward solve iterates the cell's precomputed map (injection once, β folded); it must be f itself.</summary>
    [TestMethod]
    [DataRow(LipschitzActivation.LipSwish)]
    [DataRow(LipschitzActivation.Tanh)]
    [DataRow(LipschitzActivation.Elu)]
    public void CellIterationMap_EqualsApply(LipschitzActivation activation)
    {
        manual_seed(41);
        var cell = Blocks.HardCell(12, 5, activation, ScalarType.Float64);
        var parameters = cell.EffectiveParameters().ToArray();
        var (z, x) = (randn(7, 12, dtype: ScalarType.Float64).mul(2), randn(7, 5, dtype: ScalarType.Float64));
        using var _ = no_grad();
        var map = ((IEquilibriumFunction)cell).IterationMap(x, parameters);
        Check.TensorsClose(map(z), cell.Apply(z, x, parameters), 1e-12, $"{activation}: iteration map vs f");
    }

    private static readonly FixedPointOptions Precise = new() { Tolerance = 1e-14, MaxIterations = 2000 };

    private static EquilibriumOptions Options(EquilibriumBackward backward = EquilibriumBackward.Implicit) => new()
    {
        Forward = Precise, Adjoint = Precise, Gradient = backward,
    };

    /// <summary>A user-supplied contraction: f(z, x) = 0.5 tanh(A z + B x) + 0.1 z with ‖A‖ ≤ 1 at initialisation.</summary>
    private sealed class UserMap : nn.Module<Tensor, Tensor, Tensor>
    {
        private readonly Parameter a, b;

        public UserMap(int state, int input) : base(nameof(UserMap))
        {
            var m = randn(state, state, dtype: ScalarType.Float64);
            a = new Parameter(m.div(linalg.svdvals(m).max()));
            b = new Parameter(randn(state, input, dtype: ScalarType.Float64));
            RegisterComponents();
        }

        public override Tensor forward(Tensor z, Tensor x) => z.mm(a.t()).add(x.mm(b.t())).tanh().mul(0.5).add(z.mul(0.1));
    }

    private static IEnumerable<(string Name, EquilibriumLayer Layer)> Layers(EquilibriumBackward backward = EquilibriumBackward.Implicit)
    {
        var cell = new EquilibriumCell(6, 4, 0.9, dtype: ScalarType.Float64);
        cell.eval();
        yield return ("default cell", new EquilibriumLayer(cell, Options(backward)));
        yield return ("user-supplied f", new EquilibriumLayer(new ModuleEquilibriumFunction(new UserMap(6, 4), 6, 4), Options(backward)));
        yield return ("monotone cell", new EquilibriumLayer(new MonotoneCell(6, 4, dtype: ScalarType.Float64), Options(backward)));
    }

    private static Tensor Loss(Tensor state, Tensor weights) => state.mul(weights).sum();

    private static Tensor[] Gradients(Tensor loss, Tensor input, EquilibriumLayer layer)
        => autograd.grad([loss], [input, .. layer.parameters().Where(p => p.requires_grad)]).ToArray();

    [TestMethod]
    public void ImplicitGradient_EqualsGradientThrough300UnrolledIterations_Float64()
    {
        foreach (var (name, layer) in Layers())
        {
            manual_seed(91);
            var x = randn(5, 4, dtype: ScalarType.Float64).requires_grad_(true);
            var weights = randn(5, 6, dtype: ScalarType.Float64);
            var result = layer.Solve(x);
            Assert.IsTrue(result.Statistics.Forward.Converged, $"{name}: {result.Statistics}");
            var implicitGrads = Gradients(Loss(result.State, weights), x, layer);
            Assert.IsTrue(result.Statistics.Backward!.Converged, $"{name}: {result.Statistics}");

            var parameters = layer.Function.EffectiveParameters().ToArray();
            var z = zeros(5, 6, dtype: ScalarType.Float64);
            for (var i = 0; i < 300; i++)
                z = layer.Function.Apply(z, x, parameters);
            z = layer.Function.Output(z);
            var unrolledGrads = Gradients(Loss(z, weights), x, layer);
            for (var i = 0; i < implicitGrads.Length; i++)
                Check.TensorsClose(implicitGrads[i], unrolledGrads[i], 1e-8, $"{name}: gradient {i} (0 = x)");
        }
    }

    [TestMethod]
    public void ImplicitGradient_MatchesFiniteDifferences_Float64()
    {
        foreach (var (name, layer) in Layers())
        {
            manual_seed(92);
            var x = randn(3, 4, dtype: ScalarType.Float64).requires_grad_(true);
            var weights = randn(3, 6, dtype: ScalarType.Float64);
            var grads = Gradients(Loss(layer.Solve(x).State, weights), x, layer);
            var tensors = new[] { x }.Concat(layer.parameters().Where(p => p.requires_grad)).ToArray();
            FiniteDifferences.CheckDirectionalDerivatives(tensors, grads, () => Loss(layer.Solve(x.detach()).State, weights).ToDouble(), 1e-3, 1e-8, name);
        }
    }

    private static double RelativeError(Tensor actual, Tensor expected)
    {
        var e = expected.to(ScalarType.Float64);
        return actual.to(ScalarType.Float64).sub(e).norm().ToDouble() / e.norm().ToDouble();
    }

    [TestMethod]
    [DataRow(LipschitzActivation.Tanh)]
    [DataRow(LipschitzActivation.LipSwish)]
    public void ImplicitGradient_Float32_MatchesFloat64UnrolledGradient_WithinRelative1e3(LipschitzActivation activation)
    {
        manual_seed(97);
        var single = Blocks.HardCell(8, 4, activation, ScalarType.Float32);
        var copy = new EquilibriumCell(8, 4, 0.9, activation, ScalarType.Float64);
        copy.load_state_dict(single.state_dict());
        copy.eval();
        // The shipped float32 defaults: Anderson forward and adjoint to relative residual 1e-5.
        var layer = new EquilibriumLayer(single);
        var reference = new EquilibriumLayer(copy);
        var data = randn(16, 4).mul(0.3);
        var weights = randn(16, 8);

        var x = data.clone().requires_grad_(true);
        var result = layer.Solve(x);
        var grads = Gradients(Loss(result.State, weights), x, layer);
        Assert.IsTrue(result.Statistics.Backward!.Converged, result.Statistics.ToString());

        // Float64 autograd through 400 Picard iterations (rate ≤ 0.9: converged to 1e-18).
        var x64 = data.to(ScalarType.Float64).requires_grad_(true);
        var parameters = copy.EffectiveParameters().ToArray();
        var z = zeros(16, 8, dtype: ScalarType.Float64);
        for (var i = 0; i < 400; i++)
            z = copy.Apply(z, x64, parameters);
        Check.AtMost(RelativeError(result.State, z), 1e-4, $"{activation}: float32 equilibrium vs float64");
        var expected = Gradients(Loss(z, weights.to(ScalarType.Float64)), x64, reference);
        Assert.AreEqual(expected.Length, grads.Length);
        for (var i = 0; i < grads.Length; i++)
            Check.AtMost(RelativeError(grads[i], expected[i]), 1e-3, $"{activation}: relative error of gradient {i} (0 = x)");
    }

    [TestMethod]
    [DataRow(EquilibriumBackward.Phantom)]
    [DataRow(EquilibriumBackward.JacobianFree)]
    public void ApproximateGradients_PointDownhill(EquilibriumBackward mode)
    {
        foreach (var ((name, exactLayer), (_, approximateLayer)) in Layers().Zip(Layers(mode)))
        {
            manual_seed(93);
            approximateLayer.load_state_dict(exactLayer.state_dict());
            var x = randn(8, 4, dtype: ScalarType.Float64).requires_grad_(true);
            var weights = randn(8, 6, dtype: ScalarType.Float64);
            var exact = Gradients(Loss(exactLayer.Solve(x).State, weights), x, exactLayer);
            var approximate = Gradients(Loss(approximateLayer.Solve(x).State, weights), x, approximateLayer);
            var dot = exact.Zip(approximate, (e, a) => e.mul(a).sum().ToDouble()).Sum();
            var norms = Math.Sqrt(exact.Sum(e => e.square().sum().ToDouble()) * approximate.Sum(a => a.square().sum().ToDouble()));
            Check.Less(0, dot / norms, $"{mode}, {name}: cosine with the exact gradient");
        }
    }

    [TestMethod]
    [DataRow(0.3, 2)]
    [DataRow(0.8, 7)]
    public void PhantomGradient_IsTheGradientOfItsDampedSteps_UnrolledFromTheFixedPoint(double damping, int steps)
    {
        manual_seed(98);
        var cell = Blocks.HardCell(8, 4, LipschitzActivation.Tanh, ScalarType.Float64);
        var layer = new EquilibriumLayer(cell, new EquilibriumOptions
        {
            Forward = Precise, Gradient = EquilibriumBackward.Phantom, PhantomDamping = damping, PhantomSteps = steps,
        });
        var x = randn(6, 4, dtype: ScalarType.Float64).mul(0.5).requires_grad_(true);
        var weights = randn(6, 8, dtype: ScalarType.Float64);
        var phantom = Gradients(Loss(layer.Solve(x).State, weights), x, layer);

        // z* without a tape, then exactly k steps z ← (1 − λ) z + λ f(z, x) by autograd.
        Tensor z;
        using (no_grad())
            z = new EquilibriumLayer(cell, Options()).Solve(x).State;
        var parameters = cell.EffectiveParameters().ToArray();
        for (var k = 0; k < steps; k++)
            z = z.mul(1 - damping).add(cell.Apply(z, x, parameters).mul(damping));
        var unrolled = Gradients(Loss(z, weights), x, layer);
        for (var i = 0; i < phantom.Length; i++)
            Check.TensorsClose(phantom[i], unrolled[i], 1e-10, $"λ = {damping}, k = {steps}: gradient {i} (0 = x)");

        // The options matter: the default phantom (λ = 0.5, k = 5) gives a different gradient on this hard cell.
        var standard = new EquilibriumLayer(cell, new EquilibriumOptions { Forward = Precise, Gradient = EquilibriumBackward.Phantom });
        Check.Less(1e-3, Check.MaxAbsDiff(Gradients(Loss(standard.Solve(x).State, weights), x, standard)[0], phantom[0]), "distance from the default phantom gradient");
    }

    [TestMethod]
    public void JacobianPenalty_IsTheWeightedOneProbeEstimate_LinearInItsWeight_ValueAndGradient()
    {
        manual_seed(99);
        var cell = Blocks.HardCell(8, 4, LipschitzActivation.Tanh, ScalarType.Float64);
        var layer = new EquilibriumLayer(cell);
        layer.train();
        // The penalty exists in training mode only; the cell's normalisation stays frozen so that every solve sees the same f.
        cell.eval();
        var x = randn(16, 4, dtype: ScalarType.Float64).mul(0.5);
        var parameters = layer.parameters().Where(p => p.requires_grad).ToArray();
        (Tensor Penalty, Tensor[] Gradients) PenaltyAt(double weight)
        {
            layer.Options = new EquilibriumOptions { Forward = Precise, Adjoint = Precise, JacobianRegularization = weight };
            manual_seed(7);
            var penalty = layer.Solve(x).JacobianPenalty!;
            return (penalty, autograd.grad([penalty], parameters, allow_unused: true).Select((g, i) => g is { IsInvalid: false } ? g : zeros_like(parameters[i])).ToArray());
        }
        var (half, halfGradients) = PenaltyAt(0.5);
        var (three, threeGradients) = PenaltyAt(3.0);

        // The reference: the same probe (the solve's first random draw), v = probeᵀ J_f(z*) by autograd, w · mean ‖v‖² / d.
        Tensor state;
        using (no_grad())
            state = new EquilibriumLayer(cell, Options()).Solve(x).State;
        manual_seed(7);
        var probe = randn(16, 8, dtype: ScalarType.Float64);
        var z = state.requires_grad_(true);
        var vjp = autograd.grad([cell.Apply(z, x, cell.EffectiveParameters().ToArray())], [z], [probe])[0];
        var estimate = vjp.square().sum().ToDouble() / 16 / 8;
        Check.Less(1e-3, estimate, "the estimate on the hard cell");
        Check.Close(half.ToDouble(), 0.5 * estimate, 1e-10 * estimate, "penalty at weight 0.5");
        Check.Close(three.ToDouble(), 3.0 * estimate, 1e-10 * estimate, "penalty at weight 3");
        for (var i = 0; i < parameters.Length; i++)
            Check.TensorsClose(threeGradients[i], halfGradients[i].mul(6), 1e-10 * (1 + halfGradients[i].abs().max().ToDouble()), $"gradient of the penalty w.r.t. parameter {i}: ×6 from weight 0.5 to 3");
        Check.Less(0, halfGradients.Sum(g => g.abs().sum().ToDouble()), "the penalty has a gradient");
    }

    /// <summary>f(z, x) = z + x + 1.5 + sin z has no fixed point (f(z) − z ≥ 0.5 for x ≥ 0): it must be reported.</summary>
    private sealed class Drifting : nn.Module<Tensor, Tensor, Tensor>
    {
        public Drifting() : base(nameof(Drifting)) { }
        public override Tensor forward(Tensor z, Tensor x) => z.add(x).add(1.5).add(z.sin());
    }

    [TestMethod]
    public void NonContractiveMap_IsReportedNotReturned()
    {
        foreach (var kind in Enum.GetValues<FixedPointSolverKind>())
        {
            var layer = new EquilibriumLayer(new ModuleEquilibriumFunction(new Drifting(), 3, 3),
                new EquilibriumOptions { Forward = new FixedPointOptions { Solver = kind, MaxIterations = 50 } });
            var failure = Assert.ThrowsExactly<SolverNotConvergedException>(() => layer.Solve(ones(2, 3)), kind.ToString());
            Assert.IsFalse(failure.Statistics.Converged);
            Check.Less(0, failure.Statistics.RelativeResidual, $"{kind}: the reported residual");
            StringAssert.Contains(failure.Message, "relative residual");

            layer.Options = new EquilibriumOptions { Forward = new FixedPointOptions { Solver = kind, MaxIterations = 50, ThrowOnNonConvergence = false } };
            Assert.IsFalse(layer.Solve(ones(2, 3)).Statistics.Forward.Converged, $"{kind}: reported without throwing");
        }
    }

    [TestMethod]
    public void WarmStart_FromTheSolution_ConvergesAtOnce()
    {
        manual_seed(94);
        var cell = new EquilibriumCell(8, 4, 0.9, dtype: ScalarType.Float64);
        cell.eval();
        var layer = new EquilibriumLayer(cell);
        var x = randn(4, 4, dtype: ScalarType.Float64);
        var cold = layer.Solve(x);
        var warm = layer.Solve(x, cold.State);
        Check.Less(warm.Statistics.Forward.Iterations, cold.Statistics.Forward.Iterations, "iterations from the previous solution");
        Assert.AreEqual(1, warm.Statistics.Forward.Iterations);
    }

    [TestMethod]
    public void JacobianPenalty_IsPositiveAndDifferentiable()
    {
        manual_seed(95);
        var layer = new EquilibriumLayer(new EquilibriumCell(8, 4, 0.9, dtype: ScalarType.Float64), new EquilibriumOptions { JacobianRegularization = 1.0 });
        layer.train();
        var result = layer.Solve(randn(16, 4, dtype: ScalarType.Float64));
        Assert.IsNotNull(result.JacobianPenalty);
        Check.Less(0, result.JacobianPenalty.ToDouble(), "penalty");
        var grads = autograd.grad([result.JacobianPenalty], layer.parameters().Where(p => p.requires_grad).ToArray(), allow_unused: true);
        Assert.IsTrue(grads.Any(g => g is { IsInvalid: false } && g.abs().sum().ToDouble() > 0), "the penalty has a gradient");
    }

    [TestMethod]
    public void BadInput_FailsWithClearMessages()
    {
        var layer = new EquilibriumLayer(new EquilibriumCell(8, 4));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => layer.Solve(ones(2, 5))).Message, "[batch, 4]");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => layer.Solve(full(2, 4, float.NaN))).Message, "NaN");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => layer.Solve(ones(2, 4), ones(3, 8))).Message, "initial state");
    }
}
