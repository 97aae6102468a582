using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// The map f(z, x; θ) of an equilibrium layer, whose output is the fixed point z* = f(z*, x; θ).
/// </summary>
/// <remarks>
/// As with <see cref="IFunctionalLayer"/>, computing the effective parameters (which may advance internal state) is
/// separate from applying f (which must not), so that backward passes can re-evaluate f freely.
/// </remarks>
public interface IEquilibriumFunction
{
    /// <summary>Width of the state z.</summary>
    int StateFeatures { get; }

    /// <summary>Width of the injected input x.</summary>
    int InputFeatures { get; }

    /// <summary>θ: the tensors f computes with, differentiable with respect to its trainable parameters.</summary>
    IEnumerable<Tensor> EffectiveParameters();

    /// <summary>f(z, x; θ) for a [batch, state] z and a [batch, input] x.</summary>
    Tensor Apply(Tensor state, Tensor input, ReadOnlySpan<Tensor> parameters);

    /// <summary>
    /// z ↦ f(z, x; θ) for the forward solve, which evaluates it many times without gradients: an implementation may
    /// precompute what does not depend on z. Default: <see cref="Apply"/>.
    /// </summary>
    Func<Tensor, Tensor> IterationMap(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var own = parameters.ToArray();
        return state => Apply(state, input, own);
    }

    /// <summary>
    /// The layer's output from the fixed point of f (differentiable): the state itself by default; a cell solved in a
    /// splitting variable maps it to the equilibrium (the monotone cell: z* = ReLU(s*)).
    /// </summary>
    Tensor Output(Tensor state) => state;
}
