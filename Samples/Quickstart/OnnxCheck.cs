using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;


namespace Invertible.Samples.Quickstart;

/// <summary>Runs exported flow graphs in ONNX Runtime alone, as an inference service would.</summary>
internal static class OnnxCheck
{
    /// <summary>The forward graph on <paramref name="rows"/>: (log-likelihood per row, latent rows).</summary>
    public static (float[] LogLikelihood, float[] Latent) Forward(string path, TorchSharp.torch.Tensor rows)
    {
        using var session = new InferenceSession(path);
        var input = new DenseTensor<float>(rows.contiguous().data<float>().ToArray(), [(int)rows.shape[0], (int)rows.shape[1]]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
        return (results.Single(r => r.Name == "log_likelihood").AsEnumerable<float>().ToArray(),
            results.Single(r => r.Name == "latent").AsEnumerable<float>().ToArray());
    }

    /// <summary>The inverse graph on row-major latents of width 2: the reconstructed rows, row-major.</summary>
    public static float[] Inverse(string path, float[] latent)
    {
        using var session = new InferenceSession(path);
        var input = new DenseTensor<float>(latent, [latent.Length / 2, 2]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("latent", input)]);
        return results.Single(r => r.Name == "x").AsEnumerable<float>().ToArray();
    }
}
