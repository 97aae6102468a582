using Invertible.ML.Flows;
using Invertible.ML.Mapping;
using Invertible.Tests.Support;
using Invertible.Torch.Data;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.LogDet;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Tests.ML;

[TestClass]
public sealed class OnnxForwardScorerTests
{
    private static (IDataView Data, TransformerChain<InvertibleResNetTransformer> Model) Fitted()
    {
        var context = new MLContext(7);
        var data = MlData.From(context, ToyDensities.TwoMoons(400, new Generator(8)));
        var pipeline = context.Transforms.NormalizeMeanVariance("Features")
            .Append(context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 5 }));
        return (data, pipeline.Fit(data));
    }

    private static (Tensor Latent, Tensor LogLikelihood) TorchSharpForward(InvertibleResNetFlow flow, Tensor features)
    {
        using var _ = no_grad();
        var (latent, logDet) = flow.ForwardWithLogDet(features);
        return (latent, StandardNormal.LogProb(latent).add(logDet));
    }

    /// <summary>
    /// The transform scores through ONNX Runtime and agrees with the TorchSharp flow; after the flow's weights change in
    /// place (as continued training or a reload would), the next transform follows them.
    /// </summary>
    [TestMethod]
    public void Transform_AgreesWithTheTorchSharpFlow_AndFollowsWeightsChangedInPlace()
    {
        var (data, model) = Fitted();
        var flow = model.LastTransformer.Model;
        Assert.IsTrue(new OnnxForwardScorer(flow).Applies, "a fitted flow on the CPU is scored through ONNX Runtime");
        var transformed = model.Transform(data);
        var features = MlData.Column(transformed, "Features");
        var (latent, logLikelihood) = TorchSharpForward(flow, features);
        Check.TensorsClose(MlData.Column(transformed, "Latent"), latent, 1e-5, "latent vs TorchSharp");
        Check.TensorsClose(MlData.Scalars(transformed, "LogLikelihood"), logLikelihood, 1e-4, "log-likelihood vs TorchSharp");

        using (no_grad())
        {
            foreach (var parameter in flow.parameters())
                parameter.mul_(0.8);
        }
        var changed = model.Transform(data);
        var (newLatent, newLogLikelihood) = TorchSharpForward(flow, features);
        Check.Less(1e-2, newLogLikelihood.sub(logLikelihood).abs().max().ToDouble(), "the change moves the log-likelihood");
        Check.TensorsClose(MlData.Column(changed, "Latent"), newLatent, 1e-5, "latent after the change");
        Check.TensorsClose(MlData.Scalars(changed, "LogLikelihood"), newLogLikelihood, 1e-4, "log-likelihood after the change");
    }

    /// <summary>
    /// One live session however often the weights change: a replaced session is disposed once no call runs on it, and
    /// every score comes from the current weights.
    /// </summary>
    [TestMethod]
    public void ReplacedSessions_AreDisposed()
    {
        manual_seed(10);
        var flow = new InvertibleResNetFlow(3, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 8 });
        flow.eval();
        using var scorer = new OnnxForwardScorer(flow);
        var rows = new float[] { 0.1f, -0.2f, 0.3f, 1f, 0.5f, -1f };
        for (var change = 0; change < 5; change++)
        {
            using (no_grad())
            {
                foreach (var parameter in flow.parameters())
                    parameter.mul_(0.95);
            }
            var scored = scorer.Score(rows, 2);
            var expected = TorchSharpForward(flow, tensor(rows).view(2, 3)).LogLikelihood;
            Check.TensorsClose(tensor(scored.LogLikelihood), expected, 1e-4, $"log-likelihood after change {change}");
            Assert.AreEqual(1, scorer.LiveSessions, $"live sessions after change {change}");
        }
        scorer.Dispose();
        Assert.AreEqual(0, scorer.LiveSessions, "disposed with the scorer");
    }

    /// <summary>ONNX Runtime only where its graph computes what TorchSharp would: exact log-determinants, evaluation mode.</summary>
    [TestMethod]
    public void Applies_OnlyToExactLogDeterminantsInEvaluationMode()
    {
        manual_seed(9);
        var flow = new InvertibleResNetFlow(3, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 8 });
        flow.eval();
        var scorer = new OnnxForwardScorer(flow);
        Assert.IsTrue(scorer.Applies, "exact (the default)");
        var blocks = flow.Layers.OfType<ResidualBlockBase>().ToArray();
        blocks[1].EvaluationLogDet = new LogDetOptions { Method = LogDetMethod.ExactTraceSeries, Terms = 8 };
        Assert.IsTrue(scorer.Applies, "the exact-trace series, which the graph reproduces");
        blocks[1].EvaluationLogDet = new LogDetOptions { Method = LogDetMethod.PowerSeries };
        Assert.IsFalse(scorer.Applies, "a stochastic estimate in one block");
        blocks[1].EvaluationLogDet = LogDetOptions.Exact;
        flow.train();
        Assert.IsFalse(scorer.Applies, "training mode");
    }
}
