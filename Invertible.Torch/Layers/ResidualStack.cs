using Invertible.Torch.Implicit;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>A composition F = F_n ∘ … ∘ F_1 of invertible layers; the inverse runs block by block in reverse.</summary>
public sealed class ResidualStack : nn.Module<Tensor, Tensor>, IInvertibleLayer
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> blocks = new();

    /// <summary>Composes the given layers (each must implement <see cref="IInvertibleLayer"/>, all of the same width).</summary>
    public ResidualStack(IEnumerable<nn.Module<Tensor, Tensor>> layers) : base(nameof(ResidualStack))
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
            if (layer is ResidualBlock block)
                block.DisplayName = $"residual block {blocks.Count}";
            blocks.Add(layer);
        }
        if (blocks.Count == 0)
            throw new ArgumentException("A stack needs at least one layer.", nameof(layers));
        RegisterComponents();
    }

    /// <summary>A stack of <paramref name="count"/> residual blocks of the same architecture.</summary>
    public static ResidualStack Create(int features, int count, ResidualBlockOptions? options = null, Generator? generator = null)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Must be at least 1.");
        return new ResidualStack(Enumerable.Range(0, count).Select(_ => (nn.Module<Tensor, Tensor>)new ResidualBlock(features, options, generator)).ToList());
    }

    /// <inheritdoc />
    public int Features { get; }

    /// <summary>The layers, first applied first.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> Layers => blocks.ToList();

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var value = input;
        foreach (var block in blocks)
            value = block.call(value);
        return value;
    }

    /// <inheritdoc />
    public Tensor Inverse(Tensor output, ImplicitOptions? options = null) => InverseWithStatistics(output, options).Input;

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        var value = output;
        var solves = new List<ImplicitSolveStatistics>();
        for (var i = blocks.Count - 1; i >= 0; i--)
        {
            var result = ((IInvertibleLayer)blocks[i]).InverseWithStatistics(value, options);
            value = result.Input;
            solves.AddRange(result.Solves);
        }
        return new InverseResult(value, solves);
    }
}
