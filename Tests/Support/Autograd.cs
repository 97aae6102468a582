using static TorchSharp.torch;

namespace Invertible.Tests.Support;

/// <summary>Reference derivatives by plain autograd.</summary>
internal static class Autograd
{
    /// <summary>The Jacobian ∂f/∂x of a map from a vector to a vector, one VJP per output.</summary>
    public static Tensor Jacobian(Func<Tensor, Tensor> f, Tensor x)
    {
        var input = x.detach().clone().requires_grad_(true);
        var output = f(input);
        var rows = Enumerable.Range(0, (int)output.shape[0]).Select(i =>
        {
            var unit = zeros_like(output);
            unit[i] = 1;
            return autograd.grad([output], [input], [unit], retain_graph: true)[0];
        }).ToArray();
        return stack(rows);
    }
}
