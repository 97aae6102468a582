using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// An invertible linear map y = W x with W = P L (U + diag(σ ⊙ exp(s))) (Glow's LU parameterisation): P a fixed
/// permutation, L unit lower-triangular, U strictly upper-triangular, σ fixed signs. log|det W| = Σ s, exact and cheap;
/// the inverse is two triangular solves. <see cref="PerPixel"/> makes it Glow's invertible 1×1 convolution: one matrix
/// mixing the channels of every pixel of flat channel-major image rows.
/// </summary>
public sealed class InvertibleLinear : nn.Module<Tensor, (Tensor Output, Tensor LogDet)>, IInvertibleLayer
{
    private readonly Parameter lower, upper, logScale;
    private readonly Tensor permutation, sign, lowerMask, upperMask;

    /// <summary>Creates the layer, initialised at a random rotation.</summary>
    public InvertibleLinear(int features, ScalarType dtype = ScalarType.Float32, Generator? generator = null) : this(features, null, dtype, generator)
    {
    }

    /// <summary>The invertible 1×1 convolution on flat rows of images of shape <paramref name="image"/>: a
    /// [channels, channels] matrix applied to every pixel, initialised at a random rotation.</summary>
    public static InvertibleLinear PerPixel(ImageShape image, ScalarType dtype = ScalarType.Float32, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new InvertibleLinear(image.Channels, image, dtype, generator);
    }

    private InvertibleLinear(int features, ImageShape? image, ScalarType dtype, Generator? generator) : base(nameof(InvertibleLinear))
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "Must be at least 1.");
        Image = image;
        Features = image?.Size ?? features;
        pixels = image is null ? 1 : image.Height * image.Width;
        lowerMask = ones(features, features, dtype: dtype).tril(-1);
        upperMask = ones(features, features, dtype: dtype).triu(1);
        permutation = eye(features, dtype: dtype);
        sign = ones(features, dtype: dtype);
        lower = new Parameter(zeros(features, features, dtype: dtype));
        upper = new Parameter(zeros(features, features, dtype: dtype));
        logScale = new Parameter(zeros(features, dtype: dtype));
        using (no_grad())
            Initialize(linalg.qr(randn([features, features], dtype: ScalarType.Float64, generator: generator)).Q);
        register_buffer("permutation", permutation);
        register_buffer("sign", sign);
        register_buffer("lower_mask", lowerMask);
        register_buffer("upper_mask", upperMask);
        RegisterComponents();
    }

    /// <inheritdoc />
    public int Features { get; }

    /// <summary>The images' shape when the matrix mixes the channels of each pixel; null when it mixes the features.</summary>
    public ImageShape? Image { get; }

    private readonly int pixels;

    private (Tensor L, Tensor U) Factors()
    {
        var l = lower.mul(lowerMask).Add(eye(lower.shape[0], dtype: lower.dtype, device: lower.device));
        var u = upper.mul(upperMask).Add(diag(sign.mul(logScale.exp())));
        return (l, u);
    }

    /// <summary>The matrix W: [features, features], or [channels, channels] per pixel.</summary>
    public Tensor Weight()
    {
        var (l, u) = Factors();
        return permutation.mm(l).mm(u);
    }

    /// <summary>Sets W = <paramref name="weight"/> (any invertible square matrix of <see cref="Weight"/>'s size) through its LU factorisation.</summary>
    /// <exception cref="ArgumentException">The matrix has the wrong shape, non-finite entries or is singular.</exception>
    public void Initialize(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var size = logScale.shape[0];
        if (weight.dim() != 2 || weight.shape[0] != size || weight.shape[1] != size)
            throw new ArgumentException($"Expected a [{size}, {size}] matrix, got [{string.Join(", ", weight.shape)}].", nameof(weight));
        RowInput.CheckFinite(weight, nameof(weight));
        using var _ = no_grad();
        var (p, l, u) = linalg.lu(weight.detach().to(ScalarType.Float64));
        var diagonal = u.diagonal();
        if (diagonal.abs().min().ReadDouble() == 0)
            throw new ArgumentException("The matrix is singular.", nameof(weight));
        permutation.copy_(p);
        sign.copy_(diagonal.sign());
        lower.copy_(l.tril(-1));
        upper.copy_(u.triu(1));
        logScale.copy_(diagonal.abs().log());
    }

    /// <summary>log|det| = Σ s (once per pixel for a 1×1 convolution), a scalar: the same for every row.</summary>
    public Tensor LogDet() => pixels == 1 ? logScale.sum() : logScale.sum().Mul(pixels);

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input) => forward(input);

    /// <inheritdoc />
    public override (Tensor Output, Tensor LogDet) forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        return (Mix(input, Weight()), LogDet().expand(input.shape[0]));
    }

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        RowInput.Check(output, Features, nameof(output));
        // W x = y ⇔ L U x = Pᵀ y: one unit-lower and one upper triangular solve on the columns, a row's or a pixel's.
        var (l, u) = Factors();
        var (batch, channels) = (output.shape[0], logScale.shape[0]);
        var columns = permutation.t().mm(output.view(batch, channels, pixels).transpose(0, 1).reshape(channels, batch * pixels));
        var middle = linalg.solve_triangular(l, columns, upper: false, unitriangular: true);
        var solved = linalg.solve_triangular(u, middle, upper: true);
        return new InverseResult(solved.view(channels, batch, pixels).transpose(0, 1).reshape(batch, Features), []);
    }

    // W applied to each row's features, or to each pixel's channels: rows [batch, features] → [batch, features].
    private Tensor Mix(Tensor rows, Tensor matrix)
        => pixels == 1 ? rows.mm(matrix.t()) : matrix.matmul(rows.view(rows.shape[0], matrix.shape[0], pixels)).view(rows.shape[0], Features);
}
