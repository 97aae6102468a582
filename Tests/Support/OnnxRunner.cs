using Invertible.Torch.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Invertible.Tests.Support;

/// <summary>Runs exported models in ONNX Runtime (the only ONNX validator in .NET: loading is the check).</summary>
internal static class OnnxRunner
{
    /// <summary>
    /// The flow graph of <paramref name="stack"/> (in evaluation mode) against TorchSharp on <paramref name="x"/>: latent
    /// to 1e-5, log-likelihood to <paramref name="logLikelihoodTolerance"/>, and the inverse graph back to x to 1e-5.
    /// </summary>
    public static void CheckFlowParity(Invertible.Torch.Flows.ResidualStack stack, Tensor x, double logLikelihoodTolerance, string what)
    {
        stack.eval();
        Tensor y, logLikelihood;
        using (no_grad())
            (y, logLikelihood) = (stack.forward(x), ((Invertible.Torch.Flows.IInvertibleDensityModel)stack).LogLikelihood(x));
        var forward = Run(FlowExporter.ExportForward(stack), ("x", x));
        Check.TensorsClose(forward["latent"], y, 1e-5, $"{what}: forward");
        Check.TensorsClose(forward["log_likelihood"], logLikelihood, logLikelihoodTolerance, $"{what}: log-likelihood (the layers' log|det|)");
        Check.TensorsClose(Run(ResidualStackExporter.ExportInverse(stack), ("y", y))["x"], x, 1e-5, $"{what}: inverse");
    }

    public static Dictionary<string, Tensor> Run(ModelProto model, params (string Name, Tensor Value)[] inputs)
    {
        using var session = new InferenceSession(model.ToBytes());
        var feeds = inputs.Select(input =>
        {
            var data = input.Value.to(ScalarType.Float32).contiguous().data<float>().ToArray();
            return NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<float>(data, input.Value.shape.Select(d => (int)d).ToArray()));
        }).ToList();
        using var results = session.Run(feeds);
        return results.ToDictionary(r => r.Name, r => r.Value switch
        {
            DenseTensor<float> f => tensor(f.ToArray(), f.Dimensions.ToArray().Select(d => (long)d).ToArray()),
            DenseTensor<long> l => tensor(l.ToArray(), l.Dimensions.ToArray().Select(d => (long)d).ToArray()),
            DenseTensor<bool> b => tensor(b.ToArray(), b.Dimensions.ToArray().Select(d => (long)d).ToArray()),
            _ => throw new InvalidOperationException($"Unexpected output type {r.Value.GetType().Name} for {r.Name}."),
        });
    }
}
