using Invertible.Torch.Lipschitz;
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
        return new LogDetEvaluation(output, Of(new TensorAlgebra(jacobian), jacobian, (int)jacobian.shape[^1]));
    }

    /// <summary>log|det(I + J)| per row of [batch, size, size] Jacobians, in any algebra.</summary>
    internal static T Of<T>(ITensorAlgebra<T> ops, T jacobian, int size) => ops.LogAbsDeterminant(ops.Add(jacobian, ops.Identity(size)));
}
