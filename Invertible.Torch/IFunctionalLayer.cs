using static TorchSharp.torch;

namespace Invertible.Torch;

/// <summary>
/// A layer that can be evaluated as a pure function of its input and an explicit list of parameter tensors.
/// </summary>
/// <remarks>
/// Implicit-gradient code re-evaluates a layer many times on detached copies of its parameters; separating
/// "compute the effective parameters" (which may update state, such as power-iteration vectors) from "apply"
/// (which never does) makes that re-evaluation side-effect free.
/// </remarks>
public interface IFunctionalLayer
{
    /// <summary>Number of tensors <see cref="EffectiveParameters"/> returns.</summary>
    int ParameterCount { get; }

    /// <summary>
    /// The tensors the layer computes with, differentiable with respect to its trainable parameters.
    /// In training mode this may advance internal state (once per call).
    /// </summary>
    IEnumerable<Tensor> EffectiveParameters();

    /// <summary>Applies the layer to <paramref name="input"/> with the given effective parameters (no side effects).</summary>
    Tensor Apply(Tensor input, ReadOnlySpan<Tensor> parameters);
}
