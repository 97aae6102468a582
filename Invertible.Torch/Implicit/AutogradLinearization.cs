using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Implicit;

/// <summary>
/// VJPs of any functional layer by autograd: g is evaluated once on leaves — x detached, each θ_i itself when it is
/// already a leaf (a module's own parameter, which g may read directly) or a detached copy otherwise — and every VJP
/// reuses that one-step tape (so memory is one evaluation of g, however many VJPs are taken).
/// </summary>
internal sealed class AutogradLinearization : ILinearization
{
    private readonly Tensor inputLeaf;
    private readonly Tensor[] parameterLeaves;
    private readonly int[] trainable;
    private readonly Tensor output;

    /// <summary>Records g(x; θ) on a fresh tape.</summary>
    public AutogradLinearization(IFunctionalLayer g, Tensor input, Tensor[] parameters)
    {
        using var _ = enable_grad();
        inputLeaf = input.detach().requires_grad_(true);
        parameterLeaves = parameters.Select(p => p.is_leaf ? p : p.detach().requires_grad_(p.requires_grad)).ToArray();
        trainable = Enumerable.Range(0, parameters.Length).Where(i => parameters[i].requires_grad).ToArray();
        output = g.Apply(inputLeaf, parameterLeaves);
    }

    /// <inheritdoc />
    public Tensor InputVjp(Tensor w) => autograd.grad([output], [inputLeaf], [w], retain_graph: true)[0];

    /// <inheritdoc />
    public Tensor?[] ParameterVjp(Tensor w)
    {
        var result = new Tensor?[parameterLeaves.Length];
        if (trainable.Length == 0)
            return result;
        var grads = autograd.grad([output], trainable.Select(i => parameterLeaves[i]).ToArray(), [w], retain_graph: true, allow_unused: true);
        // An unused input comes back as a tensor without a handle, not as null.
        for (var j = 0; j < trainable.Length; j++)
            result[trainable[j]] = grads[j] is { IsInvalid: false } grad ? grad : null;
        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        output.Dispose();
        inputLeaf.Dispose();
    }
}
