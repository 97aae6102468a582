using Invertible.ML.Checks;
using Invertible.ML.Flows;
using Invertible.Tests.Support;
using Invertible.Torch.Checks;
using Invertible.Torch.Data;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Microsoft.ML;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Tests.Checks;

/// <summary>The checks offered to users' test suites pass on sound models and throw, naming what fails, on broken ones.</summary>
[TestClass]
public sealed class ChecksTests
{
    [TestMethod]
    public void GradientCheck_PassesOnTheImplicitInverse_AndCatchesAGradientThatMissesATerm()
    {
        manual_seed(3);
        var block = Blocks.Random(4, 16, 0.9, ScalarType.Float64);
        var y = randn([5, 4], dtype: ScalarType.Float64, generator: new Generator(4)).requires_grad_();
        var tight = new ImplicitOptions { Forward = new() { Tolerance = 1e-13 }, Backward = new() { Tolerance = 1e-13 } };
        var worst = GradientCheck.AgainstFiniteDifferences(() => block.Inverse(y, tight).square().sum(), [y, .. block.parameters()]);
        Check.AtMost(worst, 1e-6, "relative error of the implicit inverse's gradient");

        var x = randn([3, 2], dtype: ScalarType.Float64, generator: new Generator(5)).requires_grad_();
        var error = Assert.ThrowsExactly<CheckFailedException>(() => GradientCheck.AgainstFiniteDifferences(() => x.detach().mul(x).sum(), [x]));
        StringAssert.Contains(error.Message, "inputs[0]");

        var single = randn([3], generator: new Generator(6)).requires_grad_();
        Assert.ThrowsExactly<ArgumentException>(() => GradientCheck.AgainstFiniteDifferences(() => single.square().sum(), [single]));
    }

    [TestMethod]
    public void LipschitzCheck_CertifiesTheBlocksBound_AndNamesTheModuleAboveALowerLimit()
    {
        var stack = ResidualStack.Create(6, 3, new ResidualBlockOptions { HiddenFeatures = 16, Coefficient = 0.9 });
        stack.eval();
        var bound = LipschitzCheck.ResidualBranches(stack);
        Check.AtMost(bound, 0.9 + 1e-6, "certified bound at c = 0.9");
        Check.Less(0.5, bound, "random blocks' bound, so that the lower limit below bites");
        var error = Assert.ThrowsExactly<CheckFailedException>(() => LipschitzCheck.ResidualBranches(stack, 0.5));
        StringAssert.Contains(error.Message, "block 'blocks.");
        Assert.ThrowsExactly<ArgumentException>(() => LipschitzCheck.ResidualBranches(nn.Linear(2, 2)));
        var first = (ResidualBlockBase)stack.Layers[0];
        var whole = LipschitzCheck.AtMost(first, 2.0);
        Check.Close(whole, 1 + first.Residual.LipschitzBound(), 1e-12, "a block's own bound, 1 + Lip(g)");
        Assert.ThrowsExactly<CheckFailedException>(() => LipschitzCheck.AtMost(first, 1.0));
    }

    [TestMethod]
    public void TransformerChecks_PassOnAFittedFlow_AndCatchACappedInverseAndAStaleOnnxFile()
    {
        var context = new MLContext(2);
        var data = MlData.From(context, ToyDensities.TwoMoons(300, new Generator(7)));
        var flow = context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 30, Blocks = 2, HiddenFeatures = 16, Coefficient = 0.97, SolverMaxIterations = 1 }).Fit(data);
        var capped = Assert.ThrowsExactly<CheckFailedException>(() => TransformerChecks.RoundTrip(flow, data));
        StringAssert.Contains(capped.Message, "did not converge");

        flow = context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 5, Blocks = 2, HiddenFeatures = 16 }).Fit(data);
        Check.AtMost(TransformerChecks.RoundTrip(flow, data), 1e-4, "round trip");
        var tight = Assert.ThrowsExactly<CheckFailedException>(() => TransformerChecks.RoundTrip(flow, data, tolerance: 1e-12));
        StringAssert.Contains(tight.Message, "slot");
        var path = Path.Combine(Path.GetTempPath(), $"checks-{Guid.NewGuid():N}.onnx");
        try
        {
            flow.ExportOnnx(path);
            Check.AtMost(TransformerChecks.OnnxParity(path, flow, data), 1e-4, "ONNX parity");
            using (no_grad())
                flow.Model.parameters().First().add_(0.05);
            var stale = Assert.ThrowsExactly<CheckFailedException>(() => TransformerChecks.OnnxParity(path, flow, data));
            StringAssert.Contains(stale.Message, "Row ");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
