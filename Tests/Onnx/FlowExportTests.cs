using Invertible.Tests.Support;
using Invertible.Torch.Data;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Onnx;
using Invertible.Torch.Solvers;
using Invertible.Torch.Training;
using static TorchSharp.torch;

namespace Invertible.Tests.Onnx;

[TestClass]
public sealed class FlowExportTests
{
    private static InvertibleResNetFlow Trained(int features, bool linear)
    {
        manual_seed(121);
        var data = features == 2 ? ToyDensities.TwoMoons(2000, new Generator(1)) : randn(2000, features).mm(randn(features, features)).add(1);
        var flow = new InvertibleResNetFlow(features, new InvertibleResNetFlowOptions { Blocks = 3, HiddenFeatures = 32, InvertibleLinear = linear });
        Trainer.Fit(flow, [data], (batch, _) => flow.LogProb(batch[0]).mean().neg(), new TrainerOptions { Epochs = 3, BatchSize = 200, LearningRate = 5e-3, ValidationFraction = 0 });
        return flow;
    }

    [TestMethod]
    [DataRow(2, false)]
    [DataRow(6, true)]
    public void ForwardLogLikelihoodAndInverse_MatchTorchSharp_AtBatch1_7_1024(int features, bool linear)
    {
        var flow = Trained(features, linear);
        var forward = FlowExporter.ExportForward(flow);
        var inverse = FlowExporter.ExportInverse(flow);
        var picard = new ImplicitOptions { Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard } };
        foreach (var batch in new[] { 1, 7, 1024 })
        {
            var x = randn(batch, features);
            using var _ = no_grad();
            var (latent, _) = flow.forward(x);
            var outputs = OnnxRunner.Run(forward, ("x", x));
            Check.TensorsClose(outputs["latent"], latent, 1e-5, $"d = {features}, batch {batch}: latent");
            Check.TensorsClose(outputs["log_likelihood"], flow.LogProb(x), 1e-4, $"d = {features}, batch {batch}: log-likelihood vs the exact TorchSharp value");
            var back = OnnxRunner.Run(inverse, ("latent", latent));
            Check.TensorsClose(back["x"], flow.Inverse(latent, picard), 1e-5, $"d = {features}, batch {batch}: inverse vs TorchSharp");
            Assert.IsTrue(back["converged"].all().item<bool>(), "every row converged");
        }
    }

    [TestMethod]
    public void Inverse_RowResultDoesNotDependOnItsBatch()
    {
        var flow = Trained(6, true);
        var inverse = FlowExporter.ExportInverse(flow);
        var latent = randn(32, 6).mul(2);
        var batched = OnnxRunner.Run(inverse, ("latent", latent))["x"];
        for (var row = 0; row < 32; row += 7)
            Check.TensorsClose(OnnxRunner.Run(inverse, ("latent", latent[row..(row + 1)]))["x"], batched[row..(row + 1)], 1e-6, $"row {row} alone vs in the batch");
    }
}
