using Invertible.Torch.Implicit;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// Applies a layer to the first features of each row and passes the others through unchanged: how a multi-scale flow
/// factors out half of its channels (Dinh et al., Real NVP) — on channel-major image rows the leading features are
/// the leading channels, so the later scales transform those and the factored-out ones go straight to the latent.
/// log|det| is the inner layer's.
/// </summary>
public sealed class LeadingFeatures : nn.Module<Tensor, (Tensor Output, Tensor LogDet)>, IInvertibleLayer
{
    private readonly nn.Module inner;

    /// <summary>Wraps <paramref name="layer"/> (an <see cref="IInvertibleLayer"/> module on its own
    /// <see cref="IInvertibleLayer.Features"/>) into rows of <paramref name="features"/> values.</summary>
    public LeadingFeatures(nn.Module layer, int features) : base(nameof(LeadingFeatures))
    {
        ArgumentNullException.ThrowIfNull(layer);
        Layer = layer as IInvertibleLayer ?? throw new ArgumentException($"A {layer.GetType().Name} is not an invertible layer.", nameof(layer));
        if (features <= Layer.Features)
            throw new ArgumentOutOfRangeException(nameof(features), features, $"Must exceed the wrapped layer's {Layer.Features} features.");
        Features = features;
        inner = layer;
        RegisterComponents();
    }

    /// <summary>The layer applied to the leading features.</summary>
    public IInvertibleLayer Layer { get; }

    /// <inheritdoc />
    public int Features { get; }

    /// <inheritdoc />
    public override (Tensor Output, Tensor LogDet) forward(Tensor input) => ForwardWithLogDet(input);

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input)
    {
        Core.RowInput.Check(input, Features, nameof(input));
        var (head, logDet) = Layer.ForwardWithLogDet(input[.., ..Layer.Features]);
        return (cat([head, input[.., Layer.Features..]], 1), logDet);
    }

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        Core.RowInput.Check(output, Features, nameof(output));
        var head = Layer.InverseWithStatistics(output[.., ..Layer.Features], options);
        return head with { Input = cat([head.Input, output[.., Layer.Features..]], 1) };
    }
}
