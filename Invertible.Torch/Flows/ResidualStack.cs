using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>
/// A composition F = F_n ∘ … ∘ F_1 of invertible layers; the inverse runs layer by layer in reverse. As a density
/// model (<see cref="IInvertibleDensityModel"/>) the output is the latent code and each layer adds its log-determinant.
/// </summary>
public sealed class ResidualStack : nn.Module<Tensor, Tensor>, IInvertibleDensityModel
{
    private readonly ModuleList<nn.Module> blocks = new();
    private readonly IInvertibleLayer[] layers;

    /// <summary>Composes the given layers (each must implement <see cref="IInvertibleLayer"/>, all of the same width).</summary>
    public ResidualStack(IEnumerable<nn.Module> layers) : base(nameof(ResidualStack))
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var layer in layers)
        {
            if (layer is not IInvertibleLayer invertible)
                throw new ArgumentException($"{layer.GetType().Name} does not implement {nameof(IInvertibleLayer)}.", nameof(layers));
            if (blocks.Count > 0 && invertible.Features != Features)
                throw new ArgumentException($"Layer {blocks.Count} has {invertible.Features} features; the stack has {Features}.", nameof(layers));
            if (blocks.Count == 0)
                Features = invertible.Features;
            if (layer is ResidualBlockBase block)
                block.DisplayName = $"residual block {blocks.Count}";
            blocks.Add(layer);
        }
        if (blocks.Count == 0)
            throw new ArgumentException("A stack needs at least one layer.", nameof(layers));
        this.layers = blocks.Cast<IInvertibleLayer>().ToArray();
        RegisterComponents();
    }

    /// <summary>A stack of <paramref name="count"/> residual blocks of the same architecture.</summary>
    public static ResidualStack Create(int features, int count, ResidualBlockOptions? options = null, Generator? generator = null)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Must be at least 1.");
        return new ResidualStack(Enumerable.Range(0, count).Select(_ => (nn.Module)new ResidualBlock(features, options, generator)).ToList());
    }

    /// <inheritdoc />
    public int Features { get; }

    /// <inheritdoc />
    public IReadOnlyList<IInvertibleLayer> Layers => layers;

    /// <summary>The adaptive solver to relative residual 1e-6 (<see cref="ImplicitOptions.Default"/>).</summary>
    public ImplicitOptions DefaultInverseOptions => ImplicitOptions.Default;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        using var _ = RowInput.Trusted();
        var value = input;
        foreach (var layer in blocks)
            value = layer is nn.Module<Tensor, Tensor> map ? map.call(value) : ((IInvertibleLayer)layer).ForwardWithLogDet(value).Output;
        return value;
    }

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input) => DensityModel.ForwardWithLogDet(layers, input, Features);

    /// <inheritdoc />
    public Tensor Inverse(Tensor output, ImplicitOptions? options = null) => InverseWithStatistics(output, options).Input;

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
        => DensityModel.Inverse(layers, output, Features, options ?? DefaultInverseOptions, nameof(output));

    /// <inheritdoc />
    public InverseResult Sample(int count, Generator? generator = null, ImplicitOptions? options = null)
        => DensityModel.Sample(this, parameters().First(), count, generator, options);
}
