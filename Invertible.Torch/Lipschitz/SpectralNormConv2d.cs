using Invertible.Torch.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>
/// A "same" convolution (stride 1, zero padding k / 2) on images of a fixed shape, held as flat rows
/// [batch, channels · height · width], whose effective kernel K̃ = K / max(1, σ / c) gives the convolution, as a linear
/// operator on that image shape, an operator norm of at most c.
/// </summary>
/// <remarks>
/// <para>σ is the operator's largest singular value on the given input shape — what bounds Lip(g) — found by the power
/// iteration with vectors shaped like the input and output images (u ← conv(v) / ‖conv(v)‖, v ← convᵀ(u) / ‖convᵀ(u)‖,
/// the adjoint being the transposed convolution), as i-ResNet and Residual Flows do, not by normalising the reshaped
/// kernel matrix, whose norm can be below the operator's. Training advances the persistent u, v by
/// <see cref="PowerIterations"/> per forward; evaluation freezes them, and entering evaluation mode first converges them
/// (<see cref="RefreshSingularVectors"/>) so the bound holds.</para>
/// </remarks>
public sealed class SpectralNormConv2d : nn.Module<Tensor, Tensor>, IFunctionalLayer, ILipschitzBounded
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Tensor u;
    private readonly Tensor v;
    private readonly long[] padding;
    private readonly VersionedCache<Tensor> evaluationWeight = new();

    /// <summary>Creates the convolution with PyTorch's default initialisation for convolutions, then normalises it.</summary>
    /// <param name="input">Shape of the input images.</param>
    /// <param name="outChannels">Output channels (≥ 1); the output has the input's height and width.</param>
    /// <param name="kernelSize">Odd kernel side (≥ 1).</param>
    /// <param name="coefficient">Bound c on the operator norm, in (0, 1].</param>
    /// <param name="powerIterations">Power iterations per training forward (≥ 1). Default 1.</param>
    /// <param name="hasBias">Whether the convolution has a bias per output channel.</param>
    /// <param name="dtype">Parameter type (default float32).</param>
    /// <param name="generator">Random source for the initial kernel and singular vectors.</param>
    public SpectralNormConv2d(ImageShape input, int outChannels, int kernelSize, double coefficient, int powerIterations = 1,
        bool hasBias = true, ScalarType dtype = ScalarType.Float32, Generator? generator = null)
        : base(nameof(SpectralNormConv2d))
    {
        ArgumentNullException.ThrowIfNull(input);
        OptionCheck.AtLeast(outChannels, 1);
        if (kernelSize < 1 || kernelSize % 2 == 0)
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "Must be odd and at least 1 (a same convolution).");
        OptionCheck.Within(coefficient, 0, false, 1, true);
        OptionCheck.AtLeast(powerIterations, 1);
        OptionCheck.FloatingPoint(dtype);

        (Input, Output, KernelSize, Coefficient, PowerIterations) = (input, input with { Channels = outChannels }, kernelSize, coefficient, powerIterations);
        padding = [kernelSize / 2, kernelSize / 2];
        // PyTorch's nn.Conv2d initialisation: U(−1/√fan_in, 1/√fan_in), fan_in = in channels · k².
        var bound = 1.0 / Math.Sqrt(input.Channels * kernelSize * kernelSize);
        weight = new Parameter(rand([outChannels, input.Channels, kernelSize, kernelSize], dtype: dtype, generator: generator).MulInPlace(2 * bound).SubInPlace(bound));
        bias = hasBias ? new Parameter(rand([outChannels], dtype: dtype, generator: generator).MulInPlace(2 * bound).SubInPlace(bound)) : null;

        using (no_grad())
        {
            var start = randn([1, input.Channels, input.Height, input.Width], dtype: dtype, generator: generator);
            var (u0, v0, _) = TopSingularPair(weight, start.div(start.norm()), SpectralNormOptions.Default);
            u = u0.detach().clone();
            v = v0.detach().clone();
        }
        register_buffer("u", u);
        register_buffer("v", v);
        RegisterComponents();
    }

    /// <summary>Shape of the input images.</summary>
    public ImageShape Input { get; }

    /// <summary>Shape of the output images (the input's height and width).</summary>
    public ImageShape Output { get; }

    /// <summary>The input and output shapes and the padding, for the formulas written over them.</summary>
    internal ConvolutionGeometry Geometry => new(Input, Output, KernelSize / 2);

    /// <summary>Kernel side k.</summary>
    public int KernelSize { get; }

    /// <summary>The bound c on the operator norm of the effective convolution.</summary>
    public double Coefficient { get; }

    /// <summary>Power iterations per training forward.</summary>
    public int PowerIterations { get; }

    /// <summary>The unnormalised kernel K, [out channels, in channels, k, k].</summary>
    public Parameter Weight => weight;

    /// <summary>The bias per output channel, or null.</summary>
    public Parameter? Bias => bias;

    /// <inheritdoc />
    public int ParameterCount => bias is null ? 1 : 2;

    /// <summary>The effective kernel K / max(1, σ / c); in training mode this advances u, v by <see cref="PowerIterations"/>.</summary>
    public Tensor EffectiveWeight()
    {
        if (training)
        {
            using (no_grad())
            {
                // From the stored u the start is v ← Kᵀu / ‖Kᵀu‖, so every call advances both vectors.
                // A zero kernel (a branch zeroed to start as the identity) has Kᵀu = 0: the stored v is as good as any.
                var start = Adjoint(weight)(u);
                var norm = start.norm().ReadDouble();
                var (_, nextU, nextV, _, _) = OperatorPowerIteration.Iterate(Convolve(weight), Adjoint(weight), norm > 0 && double.IsFinite(norm) ? start.Div(norm) : v.clone(),
                    SpectralNormOptions.FixedIterations(PowerIterations), null);
                u.copy_(nextU);
                v.copy_(nextV);
            }
            return Normalised(FrozenSigma());
        }
        if (!(is_grad_enabled() && weight.requires_grad) && VersionedCache<Tensor>.Enabled)
        {
            Tensor?[] sources = [weight, u, v];
            using var _ = no_grad();
            return evaluationWeight.TryGet(sources) ?? evaluationWeight.Store(sources, Normalised(FrozenSigma()).DetachFromDisposeScope());
        }
        return Normalised(FrozenSigma());
    }

    // σ = ⟨u, K v⟩ with u, v constant: its gradient in K is what the power iteration's fixed point gives.
    private Tensor FrozenSigma() => u.mul(Convolve(weight)(v)).sum();

    private Tensor Normalised(Tensor sigma) => weight.div(sigma.Div(Coefficient).ClampMin(1.0));

    private Func<Tensor, Tensor> Convolve(Tensor kernel) => image => nn.functional.conv2d(image, kernel, padding: padding);

    private Func<Tensor, Tensor> Adjoint(Tensor kernel) => image => nn.functional.conv_transpose2d(image, kernel, padding: padding);

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters()
    {
        yield return EffectiveWeight();
        if (bias is not null)
            yield return bias;
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor input, ReadOnlySpan<Tensor> parameters)
        => nn.functional.conv2d(Input.Images(input), parameters[0], parameters.Length > 1 ? parameters[1] : null, padding: padding).flatten(1);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        Input.CheckRows(input, nameof(input));
        return Apply(input, EffectiveParameters().ToArray());
    }

    /// <summary>
    /// Stores the converged top singular vectors of the convolution: exact, from the SVD of the assembled operator,
    /// where its matrix is small (at most 2²⁸ for rows · columns · min(rows, columns), e.g. 32 channels on 4×4 maps);
    /// otherwise by the power iteration from the stored vectors, to <paramref name="options"/>' tolerance.
    /// </summary>
    /// <returns>Whether the vectors converged (always, where the SVD gives them).</returns>
    public bool RefreshSingularVectors(SpectralNormOptions? options = null)
    {
        options ??= SpectralNormOptions.Default;
        options.Validate();
        using var _ = no_grad();
        var (nextU, nextV, converged) = TopSingularPair(weight.detach(), v, options);
        u.copy_(nextU);
        v.copy_(nextV);
        return converged;
    }

    // The SVD of an m × n matrix costs about m·n·min(m, n); below this it takes milliseconds, where the power iteration
    // on the same small operator takes hundreds of iterations of per-call overhead (measured: 24 convolutions of an
    // 8×8-digit flow, 20–900 iterations each, 0.2–0.7 s per switch to evaluation mode).
    private const double DenseSvdMaxCost = 1 << 28;

    private (Tensor U, Tensor V, bool Converged) TopSingularPair(Tensor kernel, Tensor start, SpectralNormOptions options)
    {
        (double rows, double columns) = (Output.Size, Input.Size);
        if (rows * columns * Math.Min(rows, columns) <= DenseSvdMaxCost)
        {
            // Column j of the operator is the convolution of basis image j.
            using var basis = eye(Input.Size, dtype: kernel.dtype, device: kernel.device);
            var matrix = Convolve(kernel)(basis.view(Input.Size, Input.Channels, Input.Height, Input.Width)).reshape(Input.Size, Output.Size).t();
            var (left, _, rightTransposed) = linalg.svd(matrix, fullMatrices: false);
            return (left[.., 0].reshape(1, Output.Channels, Output.Height, Output.Width), rightTransposed[0].reshape(1, Input.Channels, Input.Height, Input.Width), true);
        }
        var (_, nextU, nextV, _, converged) = OperatorPowerIteration.Iterate(Convolve(kernel), Adjoint(kernel), start, options, null);
        return (nextU, nextV, converged);
    }

    /// <summary>
    /// The operator norm of the effective convolution as evaluated now: σ(K) by a power iteration run to a relative
    /// residual of 1e-9 (the operator is never assembled), scaled as the frozen u, v scale it.
    /// </summary>
    public double LipschitzBound()
    {
        using var _ = no_grad();
        var kernel = weight.detach();
        var scale = Math.Max(1.0, FrozenSigma().ReadDouble() / Coefficient);
        var tight = new SpectralNormOptions { MaxIterations = 20_000, RelativeTolerance = 1e-9, AbsoluteTolerance = 0 };
        var (sigma, _, _, _, _) = OperatorPowerIteration.Iterate(Convolve(kernel.to(ScalarType.Float64)), Adjoint(kernel.to(ScalarType.Float64)),
            v.to(ScalarType.Float64), tight, null);
        return sigma.ReadDouble() / scale;
    }

    /// <summary>Switches mode; entering evaluation mode converges the power iteration so the bound c holds.</summary>
    public override void train(bool on = true)
    {
        if (!on && training)
            RefreshSingularVectors();
        base.train(on);
    }
}
