using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// A contractive MLP's evaluation form: each activation's scales folded into the neighbouring linear layers, so that
/// LipSwish, φ(z) = z σ(βz) / 1.1 = silu(βz) / (1.1 β), costs one in-place silu. With W₁′ = βW₁, b₁′ = βb₁ and
/// W₂′ = W₂ / (1.1 β) the map is W₂′ silu(W₁′x + b₁′) + b₂: three libtorch calls instead of nine for depth 2.
/// Built once per version of the effective parameters (see <see cref="VersionedCache{T}"/>); inference only.
/// </summary>
internal sealed class FoldedMlp
{
    private readonly Tensor[] weights;
    private readonly Tensor?[] biases;
    private readonly LipschitzActivationMath?[] activations;
    private readonly ConvolutionGeometry?[] convolutions;

    private FoldedMlp(Tensor[] weights, Tensor?[] biases, LipschitzActivationMath?[] activations, ConvolutionGeometry?[] convolutions)
        => (this.weights, this.biases, this.activations, this.convolutions) = (weights, biases, activations, convolutions);

    /// <summary>Each linear layer's convolution shapes, or null where it is dense.</summary>
    public IReadOnlyList<ConvolutionGeometry?> Convolutions => convolutions;

    /// <summary>Folded weights W′ (out × in), one per linear layer.</summary>
    public IReadOnlyList<Tensor> Weights => weights;

    /// <summary>Biases b′ (null where a layer has none).</summary>
    public IReadOnlyList<Tensor?> Biases => biases;

    /// <summary>After each linear layer, the activation applied in folded form (its <c>Folded</c> map), or null.</summary>
    public IReadOnlyList<LipschitzActivationMath?> Activations => activations;

    /// <summary>Folds <paramref name="layers"/> (linear, activation, linear, …) with their effective <paramref name="parameters"/>.</summary>
    /// <param name="layers">The MLP's layers.</param>
    /// <param name="parameters">Their effective parameters.</param>
    /// <param name="cached">Whether the result outlives the caller's dispose scope (held by a cache) or belongs to it.</param>
    public static FoldedMlp Build(IReadOnlyList<IFunctionalLayer> layers, ReadOnlySpan<Tensor> parameters, bool cached)
    {
        using var _ = no_grad();
        var weights = new List<Tensor>();
        var biases = new List<Tensor?>();
        var activations = new List<LipschitzActivationMath?>();
        var convolutions = new List<ConvolutionGeometry?>();
        Tensor? pendingOutputScale = null;
        var offset = 0;
        foreach (var layer in layers)
        {
            var own = parameters.Slice(offset, layer.ParameterCount);
            offset += layer.ParameterCount;
            if (layer is IElementwiseActivation activation)
            {
                activations[^1] = activation.Math;
                var beta = activation.Beta(own);
                if (beta is not null && activation.Math.Scales(new TensorAlgebra(beta), beta) is { } scales)
                {
                    weights[^1] = weights[^1].mul(scales.Input);
                    biases[^1] = biases[^1]?.mul(scales.Input);
                    pendingOutputScale = scales.Output;
                }
            }
            else
            {
                weights.Add(pendingOutputScale is null ? own[0] : own[0].mul(pendingOutputScale));
                biases.Add(own.Length > 1 ? own[1] : null);
                activations.Add(null);
                convolutions.Add((layer as SpectralNormConv2d)?.Geometry);
                pendingOutputScale = null;
            }
        }
        Tensor Keep(Tensor t) => cached ? t.detach().DetachFromDisposeScope() : t.detach();
        return new FoldedMlp(
            weights.Select(Keep).ToArray(),
            biases.Select(b => b is null ? null : Keep(b)).ToArray(),
            activations.ToArray(),
            convolutions.ToArray());
    }

    /// <summary>The MLP's value at <paramref name="input"/> (no gradients).</summary>
    public Tensor Run(Tensor input) => ContractiveMlpMath.Value(new TensorAlgebra(input), input, Stages);

    /// <summary>x ↦ y − g(x), the map inverse iterations evaluate, with y − b_k computed once.</summary>
    public Func<Tensor, Tensor> InverseIterationMap(Tensor output)
    {
        var ops = new TensorAlgebra(output);
        var shifted = ContractiveMlpMath.Shifted(ops, output.detach(), Stages);
        return x => ContractiveMlpMath.SubtractedFrom(ops, shifted, x, Stages);
    }

    // h alone after each hidden layer. LipSwish's h(u) = silu(u) and tanh run in place on the fresh product: one
    // libtorch call where the generic form (u σ(u)) takes two and a temporary.
    private MlpStage<Tensor>[] Stages => stages ??= [.. weights.Select((w, i) => new MlpStage<Tensor>(w, biases[i], activations[i]?.Kind switch
    {
        null => null,
        LipschitzActivation.LipSwish => u => nn.functional.silu(u, inplace: true),
        LipschitzActivation.Tanh => u => u.tanh_(),
        _ => u => activations[i]!.Folded(new TensorAlgebra(u), u),
    }, null) { Convolution = convolutions[i] })];

    private MlpStage<Tensor>[]? stages;
}
