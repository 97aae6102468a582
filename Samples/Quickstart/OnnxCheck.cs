using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using Invertible.Torch.Onnx;
using static TorchSharp.torch;

namespace Invertible.Samples.Quickstart;

/// <summary>Runs an exported model in ONNX Runtime (no libtorch involved) and returns one output.</summary>
internal static class OnnxCheck
{
    public static float[] Run(ModelProto model, string input, TorchSharp.torch.Tensor rows, string output)
    {
        using var session = new InferenceSession(model.ToBytes());
        var feed = NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(rows.data<float>().ToArray(), rows.shape.Select(d => (int)d).ToArray()));
        using var results = session.Run([feed]);
        var value = results.Single(r => r.Name == output).Value;
        return value is DenseTensor<long> longs ? longs.ToArray().Select(v => (float)v).ToArray() : ((DenseTensor<float>)value).ToArray();
    }
}
