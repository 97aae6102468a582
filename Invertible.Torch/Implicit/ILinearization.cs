using static TorchSharp.torch;

namespace Invertible.Torch.Implicit;

/// <summary>Vector–Jacobian products of a function g(x; θ) at one point (x, θ).</summary>
internal interface ILinearization : IDisposable
{
    /// <summary>J_g(x)ᵀ w, same shape as x.</summary>
    Tensor InputVjp(Tensor w);

    /// <summary>The map w ↦ v − J_g(x)ᵀ w whose fixed point is the adjoint solution (I + J_g)⁻ᵀ v.</summary>
    Func<Tensor, Tensor> AdjointIterationMap(Tensor v) => w => v.sub(InputVjp(w));

    /// <summary>(∂g/∂θ_i)ᵀ w for every parameter θ_i; may be null where θ_i needs no gradient (a
    /// gradient for a θ_i that needs none is ignored).</summary>
    Tensor?[] ParameterVjp(Tensor w);
}

/// <summary>A functional layer that supplies its own (hand-derived) vector–Jacobian products.</summary>
internal interface ILinearizable : IFunctionalLayer
{
    /// <summary>Linearises the layer at <paramref name="input"/> with <paramref name="parameters"/>.</summary>
    ILinearization Linearize(Tensor input, Tensor[] parameters);
}

/// <summary>A functional layer that evaluates the inverse's fixed-point map x ↦ y − g(x) faster than
/// <c>y − Apply(x, θ)</c>, e.g. with constants folded into its weights once per solve.</summary>
internal interface IResidualIterationMap : IFunctionalLayer
{
    /// <summary>The map x ↦ <paramref name="output"/> − g(x; θ), evaluated without autograd.</summary>
    Func<Tensor, Tensor> InverseIterationMap(Tensor output, Tensor[] parameters);
}

/// <summary>Linearisations of functional layers.</summary>
internal static class Linearization
{
    /// <summary>The layer's own linearisation if it has one, otherwise one by autograd on a one-step tape.</summary>
    public static ILinearization Of(IFunctionalLayer g, Tensor input, Tensor[] parameters)
        => g is ILinearizable linearizable ? linearizable.Linearize(input, parameters) : new AutogradLinearization(g, input, parameters);
}
