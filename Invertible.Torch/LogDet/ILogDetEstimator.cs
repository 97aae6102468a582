using static TorchSharp.torch;

namespace Invertible.Torch.LogDet;

/// <summary>
/// Evaluates a residual branch g and the log-determinant log|det(I + J_g(x))| of the residual map x ↦ x + g(x), per row.
/// </summary>
/// <remarks>
/// With Lip(g) &lt; 1 the log-determinant has the convergent series Σ_{k≥1} (−1)^{k+1} tr(J_g^k) / k, which the
/// stochastic estimators truncate and estimate with vector–Jacobian products only.
/// </remarks>
public interface ILogDetEstimator
{
    /// <summary>g(x) and the log-determinant per row.</summary>
    /// <param name="g">The residual branch (features → features).</param>
    /// <param name="input">x, shape [batch, features].</param>
    /// <param name="parameters">g's effective parameters.</param>
    /// <param name="differentiable">Whether the results must carry gradients to x and the parameters (training).</param>
    /// <param name="generator">Random source for probes and truncation (stochastic estimators).</param>
    LogDetEvaluation Evaluate(IFunctionalLayer g, Tensor input, Tensor[] parameters, bool differentiable, Generator? generator = null);
}

/// <summary>The output of <see cref="ILogDetEstimator.Evaluate"/>.</summary>
/// <param name="Residual">g(x), [batch, features].</param>
/// <param name="LogDet">log|det(I + J_g(x))| (or an estimate), [batch].</param>
public sealed record LogDetEvaluation(Tensor Residual, Tensor LogDet);
