using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// An invertible linear map y = W x with W = P L (U + diag(σ ⊙ exp(s))) (Glow's LU parameterisation): P a fixed
/// permutation, L unit lower-triangular, U strictly upper-triangular, σ fixed signs. log|det W| = Σ s, exact and cheap;
/// the inverse is two triangular solves.
/// </summary>
public sealed class InvertibleLinear : nn.Module<Tensor, (Tensor Output, Tensor LogDet)>, IInvertibleLayer
{
    private readonly Parameter lower, upper, logScale;
    private readonly Tensor permutation, sign, lowerMask, upperMask;

    /// <summary>Creates the layer, initialised at a random rotation.</summary>
    public InvertibleLinear(int features, ScalarType dtype = ScalarType.Float32, Generator? generator = null) : base(nameof(InvertibleLinear))
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "Must be at least 1.");
        Features = features;
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

    private (Tensor L, Tensor U) Factors()
    {
        var l = lower.mul(lowerMask).Add(eye(Features, dtype: lower.dtype, device: lower.device));
        var u = upper.mul(upperMask).Add(diag(sign.mul(logScale.exp())));
        return (l, u);
    }

    /// <summary>The matrix W.</summary>
    public Tensor Weight()
    {
        var (l, u) = Factors();
        return permutation.mm(l).mm(u);
    }

    /// <summary>Sets W = <paramref name="weight"/> (any invertible [features, features] matrix) through its LU factorisation.</summary>
    /// <exception cref="ArgumentException">The matrix has the wrong shape, non-finite entries or is singular.</exception>
    public void Initialize(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2 || weight.shape[0] != Features || weight.shape[1] != Features)
            throw new ArgumentException($"Expected a [{Features}, {Features}] matrix, got [{string.Join(", ", weight.shape)}].", nameof(weight));
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

    /// <summary>log|det W| = Σ s, a scalar: the same for every row.</summary>
    public Tensor LogDet() => logScale.sum();

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input) => forward(input);

    /// <inheritdoc />
    public override (Tensor Output, Tensor LogDet) forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        return (input.mm(Weight().t()), LogDet().expand(input.shape[0]));
    }

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        RowInput.Check(output, Features, nameof(output));
        // W x = y ⇔ L U x = Pᵀ y: one unit-lower and one upper triangular solve on the columns yᵀ.
        var (l, u) = Factors();
        var columns = permutation.t().mm(output.t());
        var middle = linalg.solve_triangular(l, columns, upper: false, unitriangular: true);
        return new InverseResult(linalg.solve_triangular(u, middle, upper: true).t(), []);
    }
}
