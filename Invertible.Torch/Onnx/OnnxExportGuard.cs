using TorchSharp;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Puts a model in evaluation mode for export (converged spectral normalisation, evaluation log-determinants) and
/// restores the caller's mode afterwards.
/// </summary>
internal readonly struct OnnxExportGuard : IDisposable
{
    private readonly torch.nn.Module? module;

    private OnnxExportGuard(torch.nn.Module? module) => this.module = module;

    public static OnnxExportGuard EvaluationMode(object model)
    {
        if (model is not torch.nn.Module { training: true } module)
            return default;
        module.eval();
        return new OnnxExportGuard(module);
    }

    public void Dispose() => module?.train();
}
