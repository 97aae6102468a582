using System.Globalization;
using Invertible.Tests.Support;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using Invertible.Torch.Solvers;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Tests.Onnx;

/// <summary>
/// Exported fixed-point loops capped before convergence report it per row: iterations = the cap, the real residual of
/// the last step (in the stopping rule's units), converged = false; the returned point is the second iterate of the loop's solver,
/// recomputed here in TorchSharp (for Anderson from its formula, so a wrong mixing coefficient fails).
/// </summary>
[TestClass]
public sealed class CappedLoopTests
{
    /// <summary>
    /// The point the loop returns after two iterations, and per row ‖f(x₁) − x₁‖ and ‖f(x₁)‖, from which it reports the
    /// residual ‖f(x₁) − x₁‖ / (‖f(x₁)‖ + abs / tol).
    /// Picard: x₂ = f(x₁) with x₁ = f(x₀). Anderson: x₁ = f(x₀) as well, then x₂ = f(x₁) − γ (f(x₁) − f(x₀)) with
    /// γ = (⟨Δr, r₁⟩ + λs) / (‖Δr‖² + 2λs), rₖ = f(xₖ) − xₖ, Δr = r₁ − r₀, s = max(‖r₀‖², ‖r₁‖²).
    /// </summary>
    private static (Tensor Last, (Tensor Absolute, Tensor Scale) Residual) TwoSteps(Func<Tensor, Tensor> f, Tensor start, OnnxLoopSolver solver)
    {
        using var _ = no_grad();
        var f0 = f(start);
        var x1 = f0;
        var f1 = f(x1);
        var residual = (linalg.vector_norm(f1.sub(x1), 2, [1]), linalg.vector_norm(f1, 2, [1]));
        if (solver == OnnxLoopSolver.Picard)
            return (f1, residual);
        var (r0, r1) = (f0.sub(start), f1.sub(x1));
        var dr = r1.sub(r0);
        var scaled = maximum(r0.square().sum(1, keepdim: true), r1.square().sum(1, keepdim: true)).mul(FixedPointOptions.Defaults.AndersonRegularization);
        var gamma = dr.mul(r1).sum(1, keepdim: true).add(scaled).div(dr.square().sum(1, keepdim: true).add(scaled.mul(2)).add(1e-30));
        return (f1.sub(gamma.mul(f1.sub(f0))), residual);
    }

    private static void AssertNotConverged(ModelProto model, Dictionary<string, Tensor> outputs, (Tensor Absolute, Tensor Scale) lastStep, string what)
    {
        var tolerance = double.Parse(model.Metadata()["invertible.tolerance"], CultureInfo.InvariantCulture);
        var absoluteTolerance = double.Parse(model.Metadata()["invertible.absolute_tolerance"], CultureInfo.InvariantCulture);
        var expectedResidual = lastStep.Absolute.div(lastStep.Scale.add(absoluteTolerance / tolerance));
        var rows = expectedResidual.shape[0];
        Assert.IsTrue(outputs["iterations"].eq(2).all().item<bool>(), $"{what}: every row ran the two iterations of the cap");
        Assert.IsFalse(outputs["converged"].any().item<bool>(), $"{what}: no row is reported converged");
        Check.Less(100 * tolerance, outputs["residual"].min().ToDouble(), $"{what}: the smallest residual, in units of the tolerance ×100");
        Check.AtMost(outputs["residual"].sub(expectedResidual).abs().div(expectedResidual).max().ToDouble(), 1e-3, $"{what}: residual vs the last step's ({rows} rows)");
    }

    [TestMethod]
    [DataRow(OnnxLoopSolver.Picard)]
    [DataRow(OnnxLoopSolver.Anderson)]
    public void ResidualStackAndFlowInverses_CappedAtTwoIterations_ReportEveryRowNotConverged(OnnxLoopSolver solver)
    {
        var options = new OnnxExportOptions { MaxIterations = 2, Solver = solver };
        manual_seed(161);
        var stack = HardModels.Stack();
        var flow = HardModels.Flow();
        foreach (var (what, model, input, block) in new (string, ModelProto, string, ResidualBlockBase)[]
        {
            ("residual stack", ResidualStackExporter.ExportInverse(stack, options), "y", (ResidualBlockBase)stack.Layers.Single()),
            ("flow", FlowExporter.ExportInverse(flow, options), "latent", flow.Layers.OfType<ResidualBlockBase>().Single()),
        })
        {
            // The flow's ActNorms are the identity, so both graphs solve x = y − g(x) from x₀ = y.
            var y = randn(16, HardModels.Features);
            var parameters = block.Residual.EffectiveParameters().ToArray();
            var (last, residual) = TwoSteps(x => y.sub(block.Residual.Apply(x, parameters)), y, solver);
            var outputs = OnnxRunner.Run(model, (input, y));
            Check.TensorsClose(outputs["x"], last, 1e-5, $"{what}: the returned point is the second {solver} iterate");
            AssertNotConverged(model, outputs, residual, what);
        }
    }

    [TestMethod]
    [DataRow(OnnxLoopSolver.Picard)]
    [DataRow(OnnxLoopSolver.Anderson)]
    public void EquilibriumGraph_CappedAtTwoIterations_ReportsEveryRowNotConverged(OnnxLoopSolver solver)
    {
        manual_seed(162);
        var network = HardModels.Equilibrium();
        var model = EquilibriumExporter.Export(network, new OnnxExportOptions { MaxIterations = 2, Solver = solver });
        var x = randn(16, HardModels.Features);
        var function = network.Layer.Function;
        var parameters = function.EffectiveParameters().ToArray();
        Tensor injection;
        using (no_grad())
            injection = network.Projection!.forward(x);
        var (state, residual) = TwoSteps(z => function.Apply(z, injection, parameters), zeros(16, function.StateFeatures), solver);
        var outputs = OnnxRunner.Run(model, ("x", x));
        using (no_grad())
            Check.TensorsClose(outputs["scores"], network.Head.forward(state), 1e-5, $"scores of the second {solver} iterate");
        AssertNotConverged(model, outputs, residual, "equilibrium");
    }

    [TestMethod]
    public void PurelyAbsoluteRule_StopsEveryRowWhereTorchSharpsPicardDoes()
    {
        // Tolerance 0 exports the rule ‖f(x) − x‖² ≤ abs² without a norm of f(x); rows at scales 10⁻³…10³ stop at
        // different iterations, and one iteration more or less moves the result by about abs.
        manual_seed(171);
        const double absolute = 1e-4;
        var stack = HardModels.Stack();
        var y = randn(32, HardModels.Features).mul(pow(10, rand(32, 1).mul(6).sub(3)));
        InverseResult expected;
        using (no_grad())
            expected = stack.InverseWithStatistics(y, new ImplicitOptions
            {
                Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, Tolerance = 0, AbsoluteTolerance = absolute, MaxIterations = 500 },
            });
        var outputs = OnnxRunner.Run(ResidualStackExporter.ExportInverse(stack, new OnnxExportOptions { Tolerance = 0, AbsoluteTolerance = absolute, MaxIterations = 500 }), ("y", y));
        Assert.IsTrue(outputs["converged"].all().item<bool>(), "every row converged");
        Check.Less(3, outputs["iterations"].max().ToInt64() - outputs["iterations"].min().ToInt64(), "rows stop at different iterations");
        CollectionAssert.AreEqual(expected.RowIterations().Select(i => (long)i).ToArray(), outputs["iterations"].data<long>().ToArray(),
            "each row's iterations: ONNX Runtime vs TorchSharp's Picard under the same absolute rule");
        var absoluteResidual = outputs["residual"].mul(linalg.vector_norm(outputs["x"], 2, [1]));
        Check.AtMost(absoluteResidual.max().ToDouble(), absolute * (1 + 1e-5), "‖f(x) − x‖ of every row's last step");
    }

    /// <summary>
    /// Anderson's first step has no history: capped at one iteration it returns Picard's f(x₀) bit for bit, for rows near
    /// the origin and rows with entries of 10⁴ alike (the loop's "far history" must vanish below float32's rounding).
    /// </summary>
    [TestMethod]
    public void AndersonLoop_FirstStep_IsExactlyPicard_AtEveryScale()
    {
        manual_seed(163);
        var stack = HardModels.Stack();
        var y = cat([randn(4, HardModels.Features).mul(1e-3), randn(4, HardModels.Features), randn(4, HardModels.Features).mul(1e4)]);
        Dictionary<string, Tensor> Run(OnnxLoopSolver solver)
            => OnnxRunner.Run(ResidualStackExporter.ExportInverse(stack, new OnnxExportOptions { MaxIterations = 1, Solver = solver }), ("y", y));
        var (picard, anderson) = (Run(OnnxLoopSolver.Picard), Run(OnnxLoopSolver.Anderson));
        Check.Identical(anderson["x"], picard["x"], "one Anderson step vs one Picard step");
        Assert.IsTrue(anderson["iterations"].eq(1).all().item<bool>(), "every row ran one iteration");
    }

    /// <summary>
    /// The exported Anderson loop is <see cref="AndersonSolver"/> with memory 2 and β = 1, written in closed form: on the
    /// hard stack, rows at scales 10⁻²…10² take the same number of iterations in both engines (up to one where a row's
    /// residual sits at the tolerance) and end at the same point. A sign flip in γ or a history that does not vanish on
    /// the first step changes the counts; the regularisation term, too small to move them here, is checked step by step by the
    /// capped-loop tests above.
    /// </summary>
    [TestMethod]
    public void AndersonLoop_IsTorchSharpsAndersonWithMemoryTwo()
    {
        manual_seed(172);
        var stack = HardModels.Stack();
        var y = randn(32, HardModels.Features).mul(pow(10, rand(32, 1).mul(4).sub(2)));
        const double tolerance = 1e-5;
        InverseResult expected;
        using (no_grad())
            expected = stack.InverseWithStatistics(y, new ImplicitOptions
            {
                Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Anderson, AndersonMemory = 2, AndersonMixing = 1, Tolerance = tolerance, MaxIterations = 500 },
            });
        var outputs = OnnxRunner.Run(ResidualStackExporter.ExportInverse(stack, new OnnxExportOptions { Solver = OnnxLoopSolver.Anderson, Tolerance = tolerance, MaxIterations = 500 }), ("y", y));
        Assert.IsTrue(outputs["converged"].all().item<bool>(), "every row converged");
        var torchIterations = expected.RowIterations().Select(i => (long)i).ToArray();
        var onnxIterations = outputs["iterations"].data<long>().ToArray();
        var apart = torchIterations.Zip(onnxIterations, (a, b) => Math.Abs(a - b)).ToArray();
        Check.AtMost(apart.Max(), 1, $"iterations per row, TorchSharp [{string.Join(", ", torchIterations)}] vs ONNX [{string.Join(", ", onnxIterations)}]");
        Check.AtMost(apart.Count(d => d != 0), 3, "rows whose counts differ");
        Check.Less(5, torchIterations.Max(), "the stack is hard enough for the mixing to matter");
        Check.AtMost(outputs["x"].sub(expected.Input).abs().div(expected.Input.abs().amax([1], keepdim: true)).max().ToDouble(), 10 * tolerance, "solutions, relative to each row's scale");
    }
}
