using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// Any TorchSharp module f(z, x) as an <see cref="IEquilibriumFunction"/>: θ are the module's own trainable parameters.
/// </summary>
/// <remarks>The module's forward must not change state (no dropout, batch statistics or power iterations), because
/// backward passes evaluate it again at the fixed point.</remarks>
public sealed class ModuleEquilibriumFunction(nn.Module<Tensor, Tensor, Tensor> module, int stateFeatures, int inputFeatures) : IEquilibriumFunction
{
    /// <inheritdoc />
    public int StateFeatures { get; } = stateFeatures >= 1 ? stateFeatures : throw new ArgumentOutOfRangeException(nameof(stateFeatures), stateFeatures, "Must be at least 1.");

    /// <inheritdoc />
    public int InputFeatures { get; } = inputFeatures >= 1 ? inputFeatures : throw new ArgumentOutOfRangeException(nameof(inputFeatures), inputFeatures, "Must be at least 1.");

    /// <summary>The wrapped module.</summary>
    public nn.Module<Tensor, Tensor, Tensor> Module { get; } = module ?? throw new ArgumentNullException(nameof(module));

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters() => Module.parameters().Where(p => p.requires_grad);

    /// <summary>Calls the module; its parameters are the tensors <see cref="EffectiveParameters"/> returned.</summary>
    public Tensor Apply(Tensor state, Tensor input, ReadOnlySpan<Tensor> parameters) => Module.call(state, input);
}
