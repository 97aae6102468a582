using Invertible.Tests.Support;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Onnx;
using Invertible.Torch.Supervised;
using Invertible.Torch;
using static TorchSharp.torch;

namespace Invertible.Tests.Onnx;

/// <summary>Exporters export the evaluation-mode model and give the caller's model back in the mode it was in.</summary>
[TestClass]
public sealed class OnnxExportGuardTests
{
    private static void AssertMode(nn.Module model, bool training, string what)
        => Assert.IsTrue(model.modules().Prepend(model).All(m => m.training == training), $"{what}: every module in {(training ? "training" : "evaluation")} mode");

    [TestMethod]
    public void EveryExporter_ReturnsATrainingModelToTrainingMode_AndLeavesAnEvaluationModelInEvaluationMode()
    {
        manual_seed(181);
        var flow = new InvertibleResNetFlow(3, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 8, InvertibleLinear = true });
        var stack = ResidualStack.Create(3, 2, new ResidualBlockOptions { HiddenFeatures = 8 });
        var network = new EquilibriumNetwork(3, 2, SupervisedTask.MulticlassClassification, new EquilibriumNetworkOptions { StateFeatures = 4, InjectionFeatures = 4 });
        var classifier = new InvertibleResNetClassifier(3, 2, SupervisedTask.MulticlassClassification, new InvertibleResNetClassifierOptions { Blocks = 1, HiddenFeatures = 8 });
        var exports = new (string What, nn.Module Model, Action Export)[]
        {
            ("flow forward", flow, () => FlowExporter.ExportForward(flow)),
            ("flow inverse", flow, () => FlowExporter.ExportInverse(flow)),
            ("flow anomaly score", flow, () => FlowExporter.ExportAnomalyScore(flow, 5.0)),
            ("stack forward", stack, () => ResidualStackExporter.ExportForward(stack)),
            ("stack inverse", stack, () => ResidualStackExporter.ExportInverse(stack)),
            ("equilibrium network", network, () => EquilibriumExporter.Export(network)),
            ("i-ResNet classifier", classifier, () => ClassifierExporter.Export(classifier)),
        };
        foreach (var (what, model, export) in exports)
        {
            model.train();
            export();
            AssertMode(model, training: true, what);
            model.eval();
            export();
            AssertMode(model, training: false, what);
        }
    }

    [TestMethod]
    public void Flow_ExportedFromTrainingMode_ScoresAsInEvaluationMode()
    {
        manual_seed(182);
        // One power iteration per training step and weights moved after the last one: in training mode the
        // normalisation would use stale singular vectors; evaluation mode converges them.
        var flow = new InvertibleResNetFlow(3, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 8, PowerIterations = 1 });
        flow.forward(randn(128, 3).mul(2));
        using (no_grad())
        {
            foreach (var linear in flow.modules().OfType<SpectralNormLinear>())
                linear.Weight.add_(randn_like(linear.Weight));
        }
        var model = FlowExporter.ExportForward(flow);
        Assert.IsTrue(flow.training);
        var x = randn(16, 3);
        flow.eval();
        using var _ = no_grad();
        Check.TensorsClose(OnnxRunner.Run(model, ("x", x))["log_likelihood"], flow.LogProb(x), 1e-4, "log-likelihood of a graph exported in training mode vs evaluation mode");
    }
}
