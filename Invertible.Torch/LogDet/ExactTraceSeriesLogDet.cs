using Invertible.Torch.Lipschitz;
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
        var logDet = Series(new TensorAlgebra(jacobian), jacobian, (int)jacobian.shape[^1], Terms);
        return new LogDetEvaluation(output, logDet);
    }

    /// <summary>Σ_{k=1}^{n} (−1)^{k+1} tr(J^k) / k per row of [batch, size, size] Jacobians, in any algebra.</summary>
    internal static T Series<T>(ITensorAlgebra<T> ops, T jacobian, int size, int terms)
    {
        var power = jacobian;
        var sum = ops.Trace(power, size);
        for (var k = 2; k <= terms; k++)
        {
            power = ops.MatMul(power, jacobian);
            sum = ops.Add(sum, ops.Scale(ops.Trace(power, size), (k % 2 == 1 ? 1.0 : -1.0) / k));
        }
        return sum;
    }
}
