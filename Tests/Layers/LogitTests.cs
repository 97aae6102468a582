using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using static TorchSharp.torch;

namespace Invertible.Tests.Layers;

[TestClass]
public sealed class LogitTests
{
    [TestMethod]
    public void LogDet_IsTheJacobians_AndTheInverseIsExact()
    {
        var layer = new Logit(5, 0.05);
        var x = rand(4, 5, dtype: ScalarType.Float64, generator: new Generator(1));
        x[0, 0] = 0;
        x[1, 1] = 1;
        var (y, logDet) = layer.forward(x);
        var s = x.mul(0.9).add(0.05);
        Check.TensorsClose(y, s.div(s.neg().add(1)).log(), 1e-12, "y = logit(α + (1 − 2α) x)");
        for (var row = 0; row < 4; row++)
        {
            var jacobian = Autograd.Jacobian(r => layer.forward(r.unsqueeze(0)).Output.squeeze(0), x[row]);
            Check.Close(logDet[row].ReadDouble(), linalg.slogdet(jacobian).Item2.ReadDouble(), 1e-10, $"row {row}: log|det J|");
        }
        Check.TensorsClose(((IInvertibleLayer)layer).Inverse(y), x, 1e-12, "inverse");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(33)]
    public void Onnx_InAFlow_MatchesTorchSharp(int batch)
    {
        var flow = new InvertibleResNetFlow(6, new InvertibleResNetFlowOptions { LogitAlpha = 0.01, Blocks = 1, HiddenFeatures = 8 }, new Generator(2));
        flow.eval();
        var x = rand(batch, 6, generator: new Generator((ulong)batch));
        using var _ = no_grad();
        var forward = OnnxRunner.Run(FlowExporter.ExportForward(flow), ("x", x));
        Check.TensorsClose(forward["log_likelihood"], flow.LogProb(x), 1e-3, $"batch {batch}: log-likelihood");
        Check.TensorsClose(OnnxRunner.Run(FlowExporter.ExportInverse(flow), ("latent", forward["latent"]))["x"], x, 1e-4, $"batch {batch}: inverse");
    }

    [TestMethod]
    public void AValueOutsideTheUnitInterval_IsNamedByRowAndColumn()
    {
        var x = rand(3, 4);
        x[2, 1] = 1.5f;
        var error = Assert.ThrowsExactly<ArgumentException>(() => new Logit(4, 0.05).forward(x));
        StringAssert.Contains(error.Message, "row 2, column 1 holds 1.5");
        Assert.AreEqual("alpha", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Logit(4, 0.5)).ParamName);
    }
}
