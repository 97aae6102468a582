using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// A contractive multilayer perceptron g = L_k ∘ φ ∘ … ∘ φ ∘ L_1: spectrally normalised linear layers (each with
/// spectral norm ≤ c) separated by a 1-Lipschitz activation φ, so Lip(g) ≤ c^k &lt; 1.
/// </summary>
public sealed class ContractiveMlp : nn.Module<Tensor, Tensor>, IJacobianLayer, IVectorJacobianLayer, ILipschitzBounded
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers = new();
    private readonly IFunctionalLayer[] functional;
    private readonly VersionedCache<FoldedMlp> folded = new();

    /// <summary>Creates g: features → hidden → … → hidden → features with <paramref name="depth"/> linear layers.</summary>
    /// <param name="features">Input and output width.</param>
    /// <param name="hiddenFeatures">Width of the hidden layers (unused when depth = 1).</param>
    /// <param name="depth">Number of linear layers (≥ 1).</param>
    /// <param name="coefficient">Spectral-norm bound c of every linear layer, in (0, 1).</param>
    /// <param name="activation">The 1-Lipschitz activation between linear layers.</param>
    /// <param name="powerIterations">Power iterations per training forward in each linear layer.</param>
    /// <param name="dtype">Parameter type.</param>
    /// <param name="generator">Random source for initial weights.</param>
    public ContractiveMlp(int features, int hiddenFeatures, int depth, double coefficient,
        LipschitzActivation activation = LipschitzActivation.LipSwish, int powerIterations = 1,
        ScalarType dtype = ScalarType.Float32, Generator? generator = null) : base(nameof(ContractiveMlp))
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "Must be at least 1.");
        if (hiddenFeatures < 1) throw new ArgumentOutOfRangeException(nameof(hiddenFeatures), hiddenFeatures, "Must be at least 1.");
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), depth, "Must be at least 1.");
        if (!(coefficient > 0 && coefficient < 1))
            throw new ArgumentOutOfRangeException(nameof(coefficient), coefficient, "A contraction needs a Lipschitz coefficient in (0, 1).");

        Features = features;
        Depth = depth;
        Activation = activation;
        for (var i = 0; i < depth; i++)
        {
            var input = i == 0 ? features : hiddenFeatures;
            var output = i == depth - 1 ? features : hiddenFeatures;
            layers.Add(new SpectralNormLinear(input, output, coefficient, powerIterations, dtype: dtype, generator: generator));
            if (i < depth - 1)
                layers.Add(LipschitzActivations.Create(activation, dtype));
        }
        functional = layers.Cast<IFunctionalLayer>().ToArray();
        ParameterCount = functional.Sum(l => l.ParameterCount);
        RegisterComponents();
    }

    /// <summary>Input and output width.</summary>
    public int Features { get; }

    /// <summary>Number of linear layers.</summary>
    public int Depth { get; }

    /// <summary>The activation between linear layers.</summary>
    public LipschitzActivation Activation { get; }

    /// <summary>The linear layers, first to last.</summary>
    public IEnumerable<SpectralNormLinear> LinearLayers => layers.OfType<SpectralNormLinear>();

    /// <summary>The layers in order: linear, activation, linear, …</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> Layers => layers.ToList();

    /// <inheritdoc />
    public int ParameterCount { get; }

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters() => functional.SelectMany(l => l.EffectiveParameters());

    /// <inheritdoc />
    public Tensor Apply(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        if (!training && VersionedCache<FoldedMlp>.Enabled && !(is_grad_enabled() && (input.requires_grad || AnyRequiresGrad(parameters))))
            return (folded.TryGet(parameters) ?? folded.Store(parameters, FoldedMlp.Build(functional, parameters))).Run(input);
        var offset = 0;
        var value = input;
        foreach (var layer in functional)
        {
            value = layer.Apply(value, parameters.Slice(offset, layer.ParameterCount));
            offset += layer.ParameterCount;
        }
        return value;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var parameters = EffectiveParameters().ToArray();
        return Apply(input, parameters);
    }

    /// <summary>The evaluation form with every scale folded into the linear layers (see <see cref="FoldedMlp"/>), from
    /// the current effective parameters; what the ONNX exporter emits.</summary>
    internal FoldedMlp Folded()
    {
        using var _ = no_grad();
        var parameters = EffectiveParameters().ToArray();
        return folded.TryGet(parameters) ?? FoldedMlp.Build(functional, parameters);
    }

    private static bool AnyRequiresGrad(ReadOnlySpan<Tensor> parameters)
    {
        foreach (var p in parameters)
            if (p.requires_grad)
                return true;
        return false;
    }

    /// <summary>
    /// g(x) and the per-row Jacobian J_g(x) = W_k D_{k−1} W_{k−1} ⋯ D_1 W_1 with D_i = diag φ'(z_i), shape
    /// [batch, features, features], from one pass; differentiable in x and the parameters. The Jacobian costs
    /// batch · hidden² · features multiply-adds per hidden layer.
    /// </summary>
    public (Tensor Output, Tensor Jacobian) OutputAndJacobian(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var (value, weights, derivatives) = ForwardWithFactors(input, parameters);
        // Accumulated from the left, (W_k D_{k−1}) W_{k−1} …: each product is [batch, features, h] @ [h, h′], which folds
        // the batch into one matrix product whose weight gradient is one product too. From the right, W @ [batch, h, n]
        // broadcasts W over the batch and its gradient reduces a [batch, h′, h] tensor (the default flow's training step,
        // depth 3, d = 2: 7.7 ms from the right, 6.5 ms from the left).
        var jacobian = weights[^1];
        for (var i = derivatives.Count - 1; i >= 0; i--)
            jacobian = jacobian.mul(derivatives[i].unsqueeze(-2)).matmul(weights[i]);
        return (value, derivatives.Count == 0 ? jacobian.expand(input.shape[0], -1, -1) : jacobian);
    }

    /// <summary>
    /// g(x) and w ↦ wᵀ J_g(x) = ((w W_k) ⊙ φ'(z_{k−1})) W_{k−1} ⋯ ⊙ φ'(z_1)) W_1 per row, differentiable in x, w and the
    /// parameters (see <see cref="IVectorJacobianLayer"/>).
    /// </summary>
    public (Tensor Output, Func<Tensor, Tensor> VectorJacobian) OutputAndVectorJacobian(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var (value, weights, derivatives) = ForwardWithFactors(input, parameters);
        return (value, w =>
        {
            w = w.matmul(weights[^1]);
            for (var i = derivatives.Count - 1; i >= 0; i--)
                w = w.mul(derivatives[i]).matmul(weights[i]);
            return w;
        });
    }

    // g(x), the weights W_1 … W_k and the activations' derivatives φ'(z_1) … φ'(z_{k−1}), in layer order.
    private (Tensor Output, List<Tensor> Weights, List<Tensor> Derivatives) ForwardWithFactors(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var offset = 0;
        var value = input;
        var weights = new List<Tensor>();
        var derivatives = new List<Tensor>();
        foreach (var layer in functional)
        {
            var own = parameters.Slice(offset, layer.ParameterCount);
            offset += layer.ParameterCount;
            if (layer is IElementwiseActivation activation)
                derivatives.Add(activation.Derivative(value, own));
            else
                weights.Add(own[0]);
            value = layer.Apply(value, own);
        }
        return (value, weights, derivatives);
    }

    /// <summary>Makes g ≡ 0 by zeroing the last linear layer: the block becomes the identity, and training grows g from there.</summary>
    public void ZeroOutput()
    {
        var last = LinearLayers.Last();
        using var _ = no_grad();
        last.Weight.zero_();
        last.Bias?.zero_();
    }

    /// <summary>Product of the linear layers' exact spectral norms (activations are 1-Lipschitz).</summary>
    public double LipschitzBound() => LinearLayers.Aggregate(1.0, (bound, layer) => bound * layer.LipschitzBound());
}
