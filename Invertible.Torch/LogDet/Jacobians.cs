using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.LogDet;

/// <summary>Dense per-row Jacobians of functional layers.</summary>
internal static class Jacobians
{
    /// <summary>
    /// J_g(x) per row, [batch, features, features]: analytic when g is an <see cref="IJacobianLayer"/>, otherwise one
    /// autograd VJP per output feature (rows of J). Differentiable when <paramref name="differentiable"/>.
    /// </summary>
    public static Tensor Of(IFunctionalLayer g, Tensor input, Tensor[] parameters, bool differentiable)
        => WithOutput(g, input, parameters, differentiable).Jacobian;

    /// <summary>g(x) and J_g(x) per row from one evaluation of g (see <see cref="Of"/>).</summary>
    public static (Tensor Output, Tensor Jacobian) WithOutput(IFunctionalLayer g, Tensor input, Tensor[] parameters, bool differentiable)
    {
        if (g is IJacobianLayer analytic)
        {
            if (differentiable)
                return analytic.OutputAndJacobian(input, parameters);
            using var _ = no_grad();
            return analytic.OutputAndJacobian(input, parameters);
        }
        using var grad = enable_grad();
        var x = differentiable && input.requires_grad ? input : input.detach().requires_grad_(true);
        var output = g.Apply(x, parameters);
        var features = output.shape[1];
        var rows = new Tensor[features];
        for (var i = 0; i < features; i++)
        {
            var unit = zeros_like(output);
            unit[.., i] = 1;
            rows[i] = autograd.grad([output], [x], [unit], retain_graph: true, create_graph: differentiable)[0];
        }
        var jacobian = stack(rows, 1);
        return differentiable ? (output, jacobian) : (output.detach(), jacobian.detach());
    }
}
