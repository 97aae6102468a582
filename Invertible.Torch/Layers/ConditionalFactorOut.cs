using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// The learned prior of the channels a multi-scale flow factors out (Glow's split prior), as an invertible layer: on
/// an image of C channels, the leading ⌈C/2⌉ (kept, a) pass unchanged and the trailing ⌊C/2⌋ (factored out, b) are
/// standardised by a Gaussian conditioned on the kept ones,
/// y_b = (b − μ(a)) ⊙ exp(−s(a)), log|det| = −Σ s(a), with [μ; s̃] = a 3×3 convolution of a and s = 2 tanh(s̃ / 2).
/// </summary>
/// <remarks>
/// Without it the factored-out channels go to the latent as they are, N(0, I) independently of the rest, so a sample's
/// fine detail is independent noise. The convolution starts at zero (the identity layer); the tanh keeps each scale
/// within e^±2, so neither direction can overflow.
/// </remarks>
public sealed class ConditionalFactorOut : nn.Module<Tensor, (Tensor Output, Tensor LogDet)>, IClosedFormLayer
{
    private const double ScaleBound = 2;
    private readonly Parameter kernel;
    private readonly Parameter bias;
    private readonly ConvolutionGeometry geometry;

    /// <summary>Creates the identity layer for flat rows of images of shape <paramref name="image"/> (at least 2 channels).</summary>
    public ConditionalFactorOut(ImageShape image, ScalarType dtype = ScalarType.Float32) : base(nameof(ConditionalFactorOut))
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Channels < 2)
            throw new ArgumentException($"Factoring out channels needs at least 2 channels, got {image}.", nameof(image));
        Image = image;
        Kept = KeptChannels(image);
        FactoredOut = image with { Channels = image.Channels / 2 };
        geometry = new ConvolutionGeometry(Kept, FactoredOut with { Channels = 2 * FactoredOut.Channels }, Padding: 1);
        kernel = new Parameter(zeros([2 * FactoredOut.Channels, Kept.Channels, 3, 3], dtype: dtype));
        bias = new Parameter(zeros(2 * FactoredOut.Channels, dtype: dtype));
        RegisterComponents();
    }

    /// <summary>The images' shape.</summary>
    public ImageShape Image { get; }

    /// <summary>The leading ⌈C/2⌉ channels a multi-scale flow keeps where it factors out the rest.</summary>
    internal static ImageShape KeptChannels(ImageShape image) => image with { Channels = image.Channels - image.Channels / 2 };

    /// <summary>The leading channels, which condition the others.</summary>
    public ImageShape Kept { get; }

    /// <summary>The trailing channels, which the layer standardises.</summary>
    public ImageShape FactoredOut { get; }

    /// <summary>The convolution's kernel, [2 · factored-out channels, kept channels, 3, 3]: μ's output channels, then s̃'s.</summary>
    public Parameter Kernel => kernel;

    /// <summary>The convolution's bias, [2 · factored-out channels].</summary>
    public Parameter Bias => bias;

    /// <inheritdoc />
    public int Features => Image.Size;

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input) => forward(input);

    /// <inheritdoc />
    public override (Tensor Output, Tensor LogDet) forward(Tensor input)
    {
        Image.CheckRows(input, nameof(input));
        return ClosedFormLayer.Evaluate(this, input);
    }

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        Image.CheckRows(output, nameof(output));
        return new InverseResult(ClosedFormLayer.Invert(this, output), []);
    }

    T IClosedFormLayer.Forward<T>(ITensorAlgebra<T> ops, T input) => Standardise(ops, input).Output;

    // One convolution of the kept channels serves the output and the log-determinant.
    (T Output, T? RowLogDet) IClosedFormLayer.ForwardWithRowLogDet<T>(ITensorAlgebra<T> ops, T input, bool logDet) where T : class
    {
        var (output, logScale) = Standardise(ops, input);
        return (output, logDet ? ops.Scale(ops.RowSum(logScale), -1) : null);
    }

    private (T Output, T LogScale) Standardise<T>(ITensorAlgebra<T> ops, T input)
    {
        var (kept, factoredOut) = Split(ops, input);
        var (mean, logScale) = Conditional(ops, kept);
        return (ops.ConcatColumns(kept, ops.Mul(ops.Sub(factoredOut, mean), ops.Exp(ops.Scale(logScale, -1)))), logScale);
    }

    T IClosedFormLayer.Inverse<T>(ITensorAlgebra<T> ops, T output)
    {
        var (kept, standardised) = Split(ops, output);
        var (mean, logScale) = Conditional(ops, kept);
        return ops.ConcatColumns(kept, ops.Add(ops.Mul(standardised, ops.Exp(logScale)), mean));
    }

    /// <summary>The weights contribute nothing beyond the rows' part.</summary>
    Tensor IClosedFormLayer.ConstantLogDet() => zeros([], dtype: kernel.dtype);

    private (T Kept, T FactoredOut) Split<T>(ITensorAlgebra<T> ops, T rows) => (ops.Columns(rows, 0, Kept.Size), ops.Columns(rows, Kept.Size, FactoredOut.Size));

    // μ(a) and s(a) = 2 tanh(s̃(a) / 2), each [batch, factored-out size].
    private (T Mean, T LogScale) Conditional<T>(ITensorAlgebra<T> ops, T kept)
    {
        var both = ops.Convolve(kept, ops.Weight(kernel, "kernel"), ops.Weight(bias, "bias"), geometry);
        var raw = ops.Columns(both, FactoredOut.Size, FactoredOut.Size);
        return (ops.Columns(both, 0, FactoredOut.Size), ops.Scale(ops.Tanh(ops.Scale(raw, 1 / ScaleBound)), ScaleBound));
    }
}
