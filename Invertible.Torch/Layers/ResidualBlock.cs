using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// Invertible residual block y = x + g(x) with Lip(g) &lt; 1 (Behrmann et al., i-ResNet), g any
/// <see cref="ContractiveMlp"/>, differentiated by autograd in the forward direction and implicitly in the inverse.
/// </summary>
public sealed class ResidualBlock : ResidualBlockBase
{
    /// <summary>Creates a block on rows of width <paramref name="features"/>.</summary>
    public ResidualBlock(int features, ResidualBlockOptions? options = null, Generator? generator = null)
        : this(new ContractiveMlp(features, Validated(options ??= new()).HiddenFeatures, options.Depth, options.Coefficient,
            options.Activation, options.PowerIterations, options.DType, generator))
    {
    }

    private static ResidualBlockOptions Validated(ResidualBlockOptions options)
    {
        options.Validate();
        return options;
    }

    /// <summary>Creates a block around an existing residual branch.</summary>
    public ResidualBlock(ContractiveMlp residual) : base(nameof(ResidualBlock), residual)
    {
    }

    /// <inheritdoc />
    public override string DisplayName { get; set; } = "residual block";

    /// <inheritdoc />
    protected override IFunctionalLayer Branch => Residual;

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor[] parameters) => input.Add(Residual.Apply(input, parameters));
}
