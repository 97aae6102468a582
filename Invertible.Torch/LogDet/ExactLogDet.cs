using Invertible.Torch.Core;
using static TorchSharp.torch;

namespace Invertible.Torch.LogDet;

/// <summary>log|det(I + J_g(x))| from the dense per-row Jacobian and <c>torch.linalg.slogdet</c>.</summary>
/// <remarks>The reference for the stochastic estimators; affordable for small feature counts (cost ∝ d³ per row, plus
/// the Jacobian itself).</remarks>
public sealed class ExactLogDet : ILogDetEstimator
{
    /// <inheritdoc />
    public LogDetEvaluation Evaluate(IFunctionalLayer g, Tensor input, Tensor[] parameters, bool differentiable, Generator? generator = null)
    {
        var (output, jacobian) = Jacobians.WithOutput(g, input, parameters, differentiable);
        using var mode = differentiable ? null : no_grad();
        var identity = eye(jacobian.shape[1], dtype: jacobian.dtype, device: jacobian.device);
        var logDet = linalg.slogdet(jacobian.Add(identity)).Item2;
        return new LogDetEvaluation(output, logDet);
    }
}
