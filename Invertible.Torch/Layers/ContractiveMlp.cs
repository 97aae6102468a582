using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// A contractive multilayer perceptron g = L_k ∘ φ ∘ … ∘ φ ∘ L_1: spectrally normalised linear layers (each with
/// spectral norm ≤ c) separated by a 1-Lipschitz activation φ, so Lip(g) ≤ c^k &lt; 1. The layers are dense, or
/// same convolutions of flat image rows (<see cref="Convolutional"/>), whose operator norms are capped the same way.
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

        (Features, Depth, Activation) = (features, depth, activation);
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

    private ContractiveMlp(ImageShape image, IEnumerable<nn.Module<Tensor, Tensor>> modules, int depth, LipschitzActivation activation)
        : base(nameof(ContractiveMlp))
    {
        (Features, Depth, Activation, Image) = (image.Size, depth, activation, image);
        foreach (var module in modules)
            layers.Add(module);
        functional = layers.Cast<IFunctionalLayer>().ToArray();
        ParameterCount = functional.Sum(l => l.ParameterCount);
        RegisterComponents();
    }

    /// <summary>
    /// Creates the convolutional g of an i-ResNet block on images of shape <paramref name="image"/> (flat channel-major
    /// rows): a 3×3 convolution to <paramref name="hiddenChannels"/>, 1×1 convolutions between hidden layers, and a 3×3
    /// convolution back to the image's channels, each a same convolution whose operator norm on its image shape is at
    /// most c.
    /// </summary>
    /// <param name="image">Shape of the images.</param>
    /// <param name="hiddenChannels">Channels of the hidden layers.</param>
    /// <param name="depth">Number of convolutions (≥ 1).</param>
    /// <param name="coefficient">Operator-norm bound c of every convolution, in (0, 1).</param>
    /// <param name="activation">The 1-Lipschitz activation between convolutions.</param>
    /// <param name="powerIterations">Power iterations per training forward in each convolution.</param>
    /// <param name="dtype">Parameter type.</param>
    /// <param name="generator">Random source for initial kernels.</param>
    public static ContractiveMlp Convolutional(ImageShape image, int hiddenChannels, int depth, double coefficient,
        LipschitzActivation activation = LipschitzActivation.LipSwish, int powerIterations = 1,
        ScalarType dtype = ScalarType.Float32, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        OptionCheck.AtLeast(hiddenChannels, 1);
        OptionCheck.AtLeast(depth, 1);
        OptionCheck.Coefficient(coefficient);
        var modules = new List<nn.Module<Tensor, Tensor>>();
        var shape = image;
        for (var i = 0; i < depth; i++)
        {
            var outChannels = i == depth - 1 ? image.Channels : hiddenChannels;
            var kernel = i == 0 || i == depth - 1 ? 3 : 1;
            var convolution = new SpectralNormConv2d(shape, outChannels, kernel, coefficient, powerIterations, dtype: dtype, generator: generator);
            modules.Add(convolution);
            shape = convolution.Output;
            if (i < depth - 1)
                modules.Add(LipschitzActivations.Create(activation, dtype));
        }
        return new ContractiveMlp(image, modules, depth, activation);
    }

    /// <summary>The image shape of a convolutional g (<see cref="Convolutional"/>); null for a dense one.</summary>
    public ImageShape? Image { get; }

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
            return (folded.TryGet(parameters) ?? folded.Store(parameters, FoldedMlp.Build(functional, parameters, cached: true))).Run(input);
        return ContractiveMlpMath.Value(new TensorAlgebra(input), input, Stages(parameters));
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
        return folded.TryGet(parameters) ?? FoldedMlp.Build(functional, parameters, cached: true);
    }

    /// <summary>The folded form at <paramref name="parameters"/>, its tensors owned by the caller's dispose scope (one solve).</summary>
    internal FoldedMlp Folded(ReadOnlySpan<Tensor> parameters) => FoldedMlp.Build(functional, parameters, cached: false);

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
        var (ops, stages) = (new TensorAlgebra(input), Stages(parameters));
        var (value, slopes) = ContractiveMlpMath.ValueAndSlopes(ops, input, stages);
        var jacobian = ContractiveMlpMath.Jacobian(ops, stages, slopes);
        return (value, slopes.Length == 0 ? jacobian.expand(input.shape[0], -1, -1) : jacobian);
    }

    /// <summary>
    /// g(x) and w ↦ wᵀ J_g(x) = ((w W_k) ⊙ φ'(z_{k−1})) W_{k−1} ⋯ ⊙ φ'(z_1)) W_1 per row, differentiable in x, w and the
    /// parameters (see <see cref="IVectorJacobianLayer"/>).
    /// </summary>
    public (Tensor Output, Func<Tensor, Tensor> VectorJacobian) OutputAndVectorJacobian(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var (ops, stages) = (new TensorAlgebra(input), Stages(parameters));
        var (value, slopes) = ContractiveMlpMath.ValueAndSlopes(ops, input, stages);
        return (value, w => ContractiveMlpMath.VectorJacobian(ops, w, stages, slopes));
    }

    // The stages of ContractiveMlpMath at the effective parameters: each layer's own Apply (LipSwish's hand-written
    // value included) and its activation's derivative.
    private MlpStage<Tensor>[] Stages(ReadOnlySpan<Tensor> parameters)
    {
        var stages = new MlpStage<Tensor>[Depth];
        var (offset, index) = (0, 0);
        foreach (var layer in functional)
        {
            var own = parameters.Slice(offset, layer.ParameterCount).ToArray();
            offset += layer.ParameterCount;
            if (layer is IElementwiseActivation activation)
                stages[index - 1] = stages[index - 1] with { Activation = z => activation.Apply(z, own), Slope = z => activation.Derivative(z, own) };
            else
                stages[index++] = new MlpStage<Tensor>(own[0], own.Length > 1 ? own[1] : null, null, null) { Convolution = (layer as SpectralNormConv2d)?.Geometry };
        }
        return stages;
    }

    /// <summary>Makes g ≡ 0 by zeroing the last linear layer: the block becomes the identity, and training grows g from there.</summary>
    public void ZeroOutput()
    {
        using var _ = no_grad();
        switch (layers[^1])
        {
            case SpectralNormLinear linear:
                linear.Weight.zero_();
                linear.Bias?.zero_();
                break;
            case SpectralNormConv2d convolution:
                convolution.Weight.zero_();
                convolution.Bias?.zero_();
                break;
        }
    }

    /// <summary>Product of the linear layers' exact spectral (operator) norms (activations are 1-Lipschitz).</summary>
    public double LipschitzBound() => layers.OfType<ILipschitzBounded>().Where(l => l is not IElementwiseActivation)
        .Aggregate(1.0, (bound, layer) => bound * layer.LipschitzBound());
}
