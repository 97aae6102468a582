using System.Globalization;
using Invertible.Tests.Support;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Tests.Onnx;

/// <summary>
/// Exported fixed-point loops capped before convergence report it per row: iterations = the cap, the real relative
/// residual of the last step, converged = false (checked against two Picard steps in TorchSharp).
/// </summary>
[TestClass]
public sealed class CappedLoopTests
{
    /// <summary>x₂ = f(f(x₀)) and the loop's residual ‖x₂ − x₁‖ / ‖x₂‖ per row.</summary>
    private static (Tensor Last, Tensor Residual) TwoPicardSteps(Func<Tensor, Tensor> f, Tensor start)
    {
        using var _ = no_grad();
        var first = f(start);
        var second = f(first);
        return (second, linalg.vector_norm(second.sub(first), 2, [1]).div(linalg.vector_norm(second, 2, [1])));
    }

    private static void AssertNotConverged(ModelProto model, Dictionary<string, Tensor> outputs, Tensor expectedResidual, string what)
    {
        var tolerance = double.Parse(model.Metadata()["invertible.tolerance"], CultureInfo.InvariantCulture);
        var rows = expectedResidual.shape[0];
        Assert.IsTrue(outputs["iterations"].eq(2).all().item<bool>(), $"{what}: every row ran the two iterations of the cap");
        Assert.IsFalse(outputs["converged"].any().item<bool>(), $"{what}: no row is reported converged");
        Check.Less(100 * tolerance, outputs["residual"].min().ToDouble(), $"{what}: the smallest residual, in units of the tolerance ×100");
        Check.AtMost(outputs["residual"].sub(expectedResidual).abs().div(expectedResidual).max().ToDouble(), 1e-3, $"{what}: residual vs the last Picard step's ({rows} rows)");
    }

    [TestMethod]
    public void ResidualStackAndFlowInverses_CappedAtTwoIterations_ReportEveryRowNotConverged()
    {
        manual_seed(161);
        var stack = HardModels.Stack();
        var flow = HardModels.Flow();
        foreach (var (what, model, input, block) in new (string, ModelProto, string, ResidualBlockBase)[]
        {
            ("residual stack", ResidualStackExporter.ExportInverse(stack, HardModels.TwoIterations), "y", (ResidualBlockBase)stack.Layers.Single()),
            ("flow", FlowExporter.ExportInverse(flow, HardModels.TwoIterations), "latent", flow.Layers.OfType<ResidualBlockBase>().Single()),
        })
        {
            // The flow's ActNorms are the identity, so both graphs solve x = y − g(x) from x₀ = y.
            var y = randn(16, HardModels.Features);
            var parameters = block.Residual.EffectiveParameters().ToArray();
            var (last, residual) = TwoPicardSteps(x => y.sub(block.Residual.Apply(x, parameters)), y);
            var outputs = OnnxRunner.Run(model, (input, y));
            Check.TensorsClose(outputs["x"], last, 1e-5, $"{what}: the returned point is the second Picard iterate");
            AssertNotConverged(model, outputs, residual, what);
        }
    }

    [TestMethod]
    public void EquilibriumGraph_CappedAtTwoIterations_ReportsEveryRowNotConverged()
    {
        manual_seed(162);
        var network = HardModels.Equilibrium();
        var model = EquilibriumExporter.Export(network, HardModels.TwoIterations);
        var x = randn(16, HardModels.Features);
        var function = network.Layer.Function;
        var parameters = function.EffectiveParameters().ToArray();
        Tensor injection;
        using (no_grad())
            injection = network.Projection.forward(x);
        var (state, residual) = TwoPicardSteps(z => function.Apply(z, injection, parameters), zeros(16, function.StateFeatures));
        var outputs = OnnxRunner.Run(model, ("x", x));
        using (no_grad())
            Check.TensorsClose(outputs["scores"], network.Head.forward(state), 1e-5, "scores of the second Picard iterate");
        AssertNotConverged(model, outputs, residual, "equilibrium");
    }
}
