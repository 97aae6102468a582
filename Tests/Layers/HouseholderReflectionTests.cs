using Invertible.Tests.Support;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using static TorchSharp.torch;

namespace Invertible.Tests.Layers;

/// <summary>
/// The closed-form layer written once over the tensor algebra: its TorchSharp evaluation is an exact reflection (checked
/// against the dense matrix I − 2vvᵀ/‖v‖² and by the exact Jacobian), and the generic ONNX emitter renders the same
/// formulas (parity with TorchSharp inside a flow with an ActNorm and a residual block, forward, log-likelihood and inverse).
/// </summary>
[TestClass]
public sealed class HouseholderReflectionTests
{
    [TestMethod]
    public void Reflection_IsOrthogonal_ItsOwnInverse_WithZeroLogDet_InFloat64()
    {
        var layer = new HouseholderReflection(5, new Generator(3), ScalarType.Float64);
        using (no_grad())
            layer.Direction.mul_(tensor(new[] { 3.0, 1, 1, 1, 1 }, dtype: ScalarType.Float64));
        var x = randn(7, 5, dtype: ScalarType.Float64, generator: new Generator(4));
        var (y, logDet) = layer.forward(x);

        var v = layer.Direction.detach();
        var matrix = eye(5, dtype: ScalarType.Float64).sub(v.outer(v).mul(2).div(v.dot(v)));
        Check.TensorsClose(y, x.mm(matrix), 1e-12, "y = x (I − 2vvᵀ/‖v‖²)");
        var jacobian = Autograd.Jacobian(row => layer.forward(row.unsqueeze(0)).Output.squeeze(0), x[0]);
        Check.TensorsClose(jacobian.mm(jacobian.t()), eye(5, dtype: ScalarType.Float64), 1e-12, "JJᵀ = I");
        Check.TensorsClose(logDet, linalg.slogdet(jacobian).Item2.expand(7), 1e-12, "log|det J| per row");
        Check.TensorsClose(((IInvertibleLayer)layer).Inverse(y), x, 1e-12, "the reflection undoes itself");
    }

    [TestMethod]
    public void ExportedFlow_WithReflection_MatchesTorchSharp_ForwardLogLikelihoodAndInverse()
    {
        manual_seed(5);
        var data = randn(256, 4).mm(randn(4, 4)).add(1);
        var stack = new ResidualStack([
            new ActNorm(4), new HouseholderReflection(4, new Generator(6)),
            new ResidualBlock(new ContractiveMlp(4, 16, 2, 0.9, Invertible.Torch.Lipschitz.LipschitzActivation.LipSwish)),
            new HouseholderReflection(4, new Generator(7)),
        ]);
        using (no_grad())
            stack.forward(data);
        stack.eval();
        Tensor latent, logLikelihood, back;
        using (no_grad())
        {
            latent = stack.forward(data);
            logLikelihood = ((IInvertibleDensityModel)stack).LogLikelihood(data);
            back = stack.Inverse(latent);
        }

        var forward = OnnxRunner.Run(FlowExporter.ExportForward(stack), ("x", data));
        Check.TensorsClose(forward["latent"], latent, 1e-5, "latent: ONNX vs TorchSharp");
        Check.TensorsClose(forward["log_likelihood"], logLikelihood, 1e-4, "log-likelihood: ONNX vs TorchSharp");
        var inverse = OnnxRunner.Run(FlowExporter.ExportInverse(stack), ("latent", latent));
        Check.TensorsClose(inverse["x"], back, 1e-5, "inverse: ONNX vs TorchSharp");
        Check.TensorsClose(inverse["x"], data, 1e-4, "inverse reconstructs the data");
    }
}
