using Invertible.Torch.Core;
using static TorchSharp.torch;

namespace Invertible.Torch.LogDet;

/// <summary>
/// Σ_{k=1}^{n} (−1)^{k+1} tr(J^k) / k with exact traces of the dense Jacobian: deterministic, and exported to ONNX as
/// the same series when a block evaluates with it. Truncation error at most d · ‖J‖^{n+1} / ((n + 1)(1 − ‖J‖)), with
/// ‖J‖ ≤ Lip(g) ≤ c.
/// </summary>
public sealed class ExactTraceSeriesLogDet(int terms) : ILogDetEstimator
{
    /// <summary>Series terms n.</summary>
    public int Terms { get; } = terms >= 1 ? terms : throw new ArgumentOutOfRangeException(nameof(terms), terms, "Must be at least 1.");

    /// <inheritdoc />
    public LogDetEvaluation Evaluate(IFunctionalLayer g, Tensor input, Tensor[] parameters, bool differentiable, Generator? generator = null)
    {
        var (output, jacobian) = Jacobians.WithOutput(g, input, parameters, differentiable);
        using var mode = differentiable ? null : no_grad();
        var power = jacobian;
        var logDet = zeros(jacobian.shape[0], dtype: jacobian.dtype, device: jacobian.device);
        for (var k = 1; k <= Terms; k++)
        {
            if (k > 1)
                power = power.bmm(jacobian);
            var trace = power.diagonal(dim1: 1, dim2: 2).sum(dim: 1);
            logDet = logDet.Add(trace.Mul((k % 2 == 1 ? 1.0 : -1.0) / k));
        }
        return new LogDetEvaluation(output, logDet);
    }
}
