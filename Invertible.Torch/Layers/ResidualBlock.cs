using System.Globalization;
using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// Invertible residual block y = x + g(x) with Lip(g) &lt; 1 (Behrmann et al., i-ResNet).
/// </summary>
/// <remarks>
/// F(x) = x + g(x) is bi-Lipschitz when Lip(g) &lt; 1: the inverse is the unique fixed point of x ↦ y − g(x),
/// found by <see cref="ResidualInverse"/> with any fixed-point solver and differentiated implicitly.
/// </remarks>
public sealed class ResidualBlock : nn.Module<Tensor, Tensor>, IInvertibleLayer, ILipschitzBounded
{
    private readonly ContractiveMlp g;

    /// <summary>Creates a block on rows of width <paramref name="features"/>.</summary>
    public ResidualBlock(int features, ResidualBlockOptions? options = null, Generator? generator = null)
        : this(new ContractiveMlp(features, (options ??= new()).HiddenFeatures, options.Depth, options.Coefficient,
            options.Activation, options.PowerIterations, options.DType, generator))
    {
    }

    /// <summary>Creates a block around an existing residual branch.</summary>
    public ResidualBlock(ContractiveMlp residual) : base(nameof(ResidualBlock))
    {
        g = residual ?? throw new ArgumentNullException(nameof(residual));
        RegisterComponents();
    }

    /// <summary>The residual branch g.</summary>
    public ContractiveMlp Residual => g;

    /// <inheritdoc />
    public int Features => g.Features;

    /// <summary>Name used in statistics and error messages.</summary>
    public string DisplayName { get; set; } = "residual block";

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        var parameters = g.EffectiveParameters().ToArray();
        return input.add(g.Apply(input, parameters));
    }

    /// <inheritdoc />
    public Tensor Inverse(Tensor output, ImplicitOptions? options = null) => InverseWithStatistics(output, options).Input;

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        RowInput.Check(output, Features, nameof(output));
        var parameters = g.EffectiveParameters().ToArray();
        var (input, statistics) = ResidualInverse.Solve(g, output, parameters, options, "inverse of the " + DisplayName);
        return new InverseResult(input, [statistics]);
    }

    /// <summary>1 + Lip(g): the Lipschitz bound of F (F⁻¹'s is 1 / (1 − Lip(g))).</summary>
    public double LipschitzBound() => 1 + g.LipschitzBound();

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{DisplayName} ({Features} features, depth {g.Depth})");
}
