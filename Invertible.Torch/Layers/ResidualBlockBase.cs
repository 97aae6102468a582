using System.Globalization;
using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// What every invertible residual block y = x + g(x) with Lip(g) &lt; 1 shares: the residual branch g (registered as
/// "g", so blocks of different kinds load each other's weights), argument checks, the implicit inverse and the bound.
/// </summary>
/// <remarks>
/// F(x) = x + g(x) is bi-Lipschitz when Lip(g) &lt; 1: the inverse is the unique fixed point of x ↦ y − g(x),
/// found by <see cref="ResidualInverse"/> with any fixed-point solver and differentiated implicitly.
/// </remarks>
public abstract class ResidualBlockBase : nn.Module<Tensor, Tensor>, IInvertibleLayer, ILipschitzBounded
{
    /// <summary>Registers <paramref name="residual"/> as the submodule "g".</summary>
    protected ResidualBlockBase(string name, ContractiveMlp residual) : base(name)
    {
        Residual = residual ?? throw new ArgumentNullException(nameof(residual));
        register_module("g", residual);
    }

    /// <summary>The residual branch g.</summary>
    public ContractiveMlp Residual { get; }

    /// <inheritdoc />
    public int Features => Residual.Features;

    /// <summary>Name used in statistics and error messages.</summary>
    public abstract string DisplayName { get; set; }

    /// <summary>g as the inverse and the forward evaluate it.</summary>
    protected abstract IFunctionalLayer Branch { get; }

    /// <summary>x + g(x) with the given effective parameters.</summary>
    protected abstract Tensor Forward(Tensor input, Tensor[] parameters);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        return Forward(input, Branch.EffectiveParameters().ToArray());
    }

    /// <inheritdoc />
    public Tensor Inverse(Tensor output, ImplicitOptions? options = null) => InverseWithStatistics(output, options).Input;

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        RowInput.Check(output, Features, nameof(output));
        var parameters = Branch.EffectiveParameters().ToArray();
        var (input, statistics) = ResidualInverse.Solve(Branch, output, parameters, options, "inverse of the " + DisplayName);
        return new InverseResult(input, [statistics]);
    }

    /// <summary>1 + Lip(g): the Lipschitz bound of F (F⁻¹'s is 1 / (1 − Lip(g))).</summary>
    public double LipschitzBound() => 1 + Residual.LipschitzBound();

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{DisplayName} ({Features} features, depth {Residual.Depth})");
}
