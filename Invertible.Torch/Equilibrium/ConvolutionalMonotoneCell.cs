using Invertible.Torch.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// The convolutional monotone-operator equilibrium cell (monDEQ's convolutional model): on feature maps of C channels
/// at the input image's height and width divided by the injection's stride, z* = ReLU(W z* + U x + b) with
/// W = (1 − m) I − AᵀA + B − Bᵀ, A and B 3×3 convolutions C → C, U a 3×3 convolution from the image's channels. I − W ⪰ m I for every A and B, so the equilibrium
/// exists and is unique. States and inputs are flat rows, channel-major as <see cref="ImageShape"/> reads them.
/// </summary>
/// <remarks>
/// <para>A and B wrap around the image border (circular padding): the operators are then diagonal in the 2-D Fourier
/// basis, one C×C complex matrix per frequency, so the resolvent V = (I + α(I − W))⁻¹ of Peaceman–Rachford splitting
/// is exact and costs one batched C×C inverse per frequency, and ‖I − W‖₂ — which sets α = 1/‖I − W‖₂ — is the largest
/// singular value over those matrices, exact in training as in evaluation. A zero-padded A would need an iterative
/// inner solve. The injection U uses zero padding, as an image convolution does; with stride 2 the equilibrium runs on
/// a quarter of the pixels, which makes each iteration about 6× cheaper on 28×28 images.</para>
/// <para>The iteration is the dense cell's (<see cref="MonotoneSplitting"/>): s ← 2V(|s| + α b̃) − |s|, z* = ReLU(s*),
/// with α = 1/√(μ L) from the exact μ = min λ(sym(I − W)) and L = ‖I − W‖₂ (<see cref="MonotoneSplitting.StepSize"/>),
/// with V applied as rfft2 → per-frequency product → irfft2. The ONNX graph applies the same V as a circular
/// convolution with its full-size spatial kernel (<see cref="ResolventKernel"/>).</para>
/// </remarks>
public sealed class ConvolutionalMonotoneCell : nn.Module<Tensor, Tensor, Tensor>, IEquilibriumFunction
{
    /// <summary>Side of the kernels of A, B and U.</summary>
    public const int KernelSize = 3;

    private readonly Parameter a, b;
    private readonly Conv2d injection;
    private readonly VersionedCache<Tensor[]> evaluation = new();

    /// <summary>Creates the cell.</summary>
    /// <param name="input">Shape of the injected images.</param>
    /// <param name="stateChannels">Channels C of the state's feature maps (≥ 1).</param>
    /// <param name="stride">Stride of the injection (1 or 2): the state's height and width are the image's divided by it, rounded up.</param>
    /// <param name="monotonicity">m in (0, 1): I − W ⪰ m I. Default 0.5.</param>
    /// <param name="dtype">Parameter type.</param>
    /// <param name="generator">Random source of the initial weights (null: the global one).</param>
    public ConvolutionalMonotoneCell(ImageShape input, int stateChannels, int stride = 1, double monotonicity = 0.5, ScalarType dtype = ScalarType.Float32, Generator? generator = null)
        : base(nameof(ConvolutionalMonotoneCell))
    {
        ArgumentNullException.ThrowIfNull(input);
        OptionCheck.AtLeast(stateChannels, 1);
        if (!(monotonicity > 0 && monotonicity < 1)) throw new ArgumentOutOfRangeException(nameof(monotonicity), monotonicity, "Must lie in (0, 1).");
        if (input.Height < KernelSize || input.Width < KernelSize)
            throw new ArgumentException($"The image {input} is smaller than the {KernelSize}×{KernelSize} kernels that wrap around it.", nameof(input));
        OptionCheck.FloatingPoint(dtype);
        if (stride is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(stride), stride, "Must be 1 or 2.");
        Input = input;
        Stride = stride;
        State = new ImageShape(stateChannels, (input.Height - 1) / stride + 1, (input.Width - 1) / stride + 1);
        if (State.Height < KernelSize || State.Width < KernelSize)
            throw new ArgumentException($"The state {State} is smaller than the {KernelSize}×{KernelSize} kernels that wrap around it.", nameof(stride));
        Monotonicity = monotonicity;
        // As the dense cell: A and B at half the scale of a unit-variance map, so W starts near (1 − m) I.
        var scale = 0.5 / Math.Sqrt(stateChannels * KernelSize * KernelSize);
        a = new Parameter(randn([stateChannels, stateChannels, KernelSize, KernelSize], dtype: dtype, generator: generator).MulInPlace(scale));
        b = new Parameter(randn([stateChannels, stateChannels, KernelSize, KernelSize], dtype: dtype, generator: generator).MulInPlace(scale));
        injection = nn.Conv2d(input.Channels, stateChannels, KernelSize, stride: stride, padding: KernelSize / 2, dtype: dtype);
        Initialization.Convolution(injection, generator);
        RegisterComponents();
    }

    /// <summary>Shape of the injected images.</summary>
    public ImageShape Input { get; }

    /// <summary>Shape of the state's feature maps: C channels at the input's height and width divided by <see cref="Stride"/>.</summary>
    public ImageShape State { get; }

    /// <summary>Stride of the injection.</summary>
    public int Stride { get; }

    /// <inheritdoc />
    public int StateFeatures => State.Size;

    /// <inheritdoc />
    public int InputFeatures => Input.Size;

    /// <summary>m: I − W ⪰ m I.</summary>
    public double Monotonicity { get; }

    /// <summary>The injection x ↦ U x + b (zero padding).</summary>
    public Conv2d Injection => injection;

    /// <summary>The kernels of A and B.</summary>
    public (Tensor A, Tensor B) Kernels => (a, b);

    /// <summary>
    /// I − W = m I + AᵀA − B + Bᵀ in the Fourier basis: one C×C complex matrix per frequency of the one-sided 2-D DFT,
    /// [height, width / 2 + 1, C, C] (differentiable in A and B).
    /// </summary>
    public Tensor ComplementSpectrum()
    {
        var (spectrumA, spectrumB) = (Spectrum(a), Spectrum(b));
        var identity = eye(State.Channels, dtype: spectrumA.dtype, device: a.device).Mul(Monotonicity);
        return spectrumA.mH.matmul(spectrumA).Add(identity).sub(spectrumB).Add(spectrumB.mH);
    }

    /// <summary>
    /// The per-frequency matrices of the circular convolution with <paramref name="kernel"/> [C, C, k, k]: the kernel is
    /// embedded as the convolution filter g with (g ⊛ z)[i, j] = Σ g[p, q] z[i − p, j − q], so conv2d's cross-correlation
    /// K[u, v] sits at g[(k/2 − u) mod H, (k/2 − v) mod W]; then rfft2, channels last.
    /// </summary>
    private Tensor Spectrum(Tensor kernel)
    {
        var half = KernelSize / 2;
        var filter = nn.functional.pad(kernel.flip(2, 3), [0, State.Width - KernelSize, 0, State.Height - KernelSize])
            .roll([-half, -half], [2, 3]);
        return fft.rfft2(filter).permute(2, 3, 0, 1);
    }

    /// <summary>
    /// [V̂, U, b, α]: the resolvent's spectrum V̂ = (I + α(I − W))⁻¹ per frequency as real and imaginary parts
    /// [height, width / 2 + 1, C, C, 2] (differentiable in A and B; real, so that every parameter of the solve's autograd
    /// function is), the injection's kernel and bias, and α (a constant: any α &gt; 0 has the same fixed point).
    /// </summary>
    public IEnumerable<Tensor> EffectiveParameters()
    {
        var sources = new Tensor?[] { a, b, injection.weight, injection.bias };
        if (!training && !is_grad_enabled() && VersionedCache<Tensor[]>.Enabled && evaluation.TryGet(sources) is { } cached)
            return cached;
        var complement = ComplementSpectrum();
        double step;
        using (no_grad())
        {
            var spectrum = complement.detach();
            var hermitian = spectrum.Add(spectrum.mH).Div(2);
            step = MonotoneSplitting.StepSize(linalg.eigvalsh(hermitian).min().ReadDouble(), HeldScalars.SpectralNorm(spectrum).max().ReadDouble());
        }
        var identity = eye(State.Channels, dtype: complement.dtype, device: a.device);
        var resolvent = linalg.inv(complement.Mul(step).Add(identity));
        Tensor[] parameters = [view_as_real(resolvent), injection.weight!, injection.bias!, tensor(step, dtype: a.dtype, device: a.device)];
        if (!training && !is_grad_enabled() && VersionedCache<Tensor[]>.Enabled)
            return evaluation.Store(sources, [.. parameters.Select(p => p.detach().DetachFromDisposeScope())]);
        return parameters;
    }

    /// <summary>U x + b as state rows.</summary>
    private Tensor Inject(Tensor input, Tensor weight, Tensor bias)
        => nn.functional.conv2d(Input.Images(input), weight, bias, strides: [Stride, Stride], padding: [KernelSize / 2, KernelSize / 2]).flatten(1);

    /// <summary>V r for state rows r, given V̂ as real and imaginary parts.</summary>
    private Tensor Resolve(Tensor rows, Tensor resolventParts)
    {
        var spectrum = fft.rfft2(State.Images(rows)).permute(2, 3, 1, 0);               // [H, W', C, batch]
        var product = view_as_complex(resolventParts).matmul(spectrum).permute(3, 2, 0, 1);  // [batch, C, H, W']
        return fft.irfft2(product, s: [State.Height, State.Width]).flatten(1);
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor state, Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var (resolvent, weight, bias, step) = (parameters[0], parameters[1], parameters[2], parameters[3]);
        return MonotoneSplitting.Step(state, Inject(input, weight, bias).mul(step), r => Resolve(r, resolvent));
    }

    /// <inheritdoc />
    public Func<Tensor, Tensor> IterationMap(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var (resolvent, weight, bias, step) = (parameters[0], parameters[1], parameters[2], parameters[3]);
        var parts = resolvent;
        return MonotoneSplitting.IterationMap(Inject(input, weight, bias).mul(step), r => Resolve(r, parts));
    }

    /// <summary>z* = ReLU(s*).</summary>
    public Tensor Output(Tensor state) => nn.functional.relu(state);

    /// <inheritdoc />
    public override Tensor forward(Tensor state, Tensor input) => Apply(state, input, EffectiveParameters().ToArray());

    /// <summary>
    /// The resolvent V as a circular convolution's full-size kernel [C, C, height, width] in conv2d's cross-correlation
    /// form on the image extended by wrapping: (V r)[i, j] = Σ K[u, v] r̃[i + u, j + v] with r̃ the image wrapped to
    /// (2H − 1) × (2W − 1) starting at row and column 1 — ONNX's Conv on a Concat of slices, no complex arithmetic.
    /// </summary>
    public Tensor ResolventKernel()
    {
        using var _ = no_grad();
        var resolvent = view_as_complex(EffectiveParameters().First().contiguous());
        var filter = fft.irfft2(resolvent.permute(2, 3, 0, 1), s: [State.Height, State.Width]);  // g: V r = g ⊛ r
        return filter.flip(2, 3).contiguous();
    }
}
