using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// Invertible residual block y = x + W₂ φ(W₁ x + b₁) + b₂ whose forward, backward, inverse and inverse backward are
/// all hand-derived (<see cref="FusedResidualBranch"/>): no autograd tape inside the block.
/// </summary>
/// <remarks>
/// Same values and gradients as a <see cref="ResidualBlock"/> of depth 2, whose weights it can load
/// (<c>load_state_dict</c>: the parameter names match). The spectral normalisation of W₁, W₂ stays in autograd
/// (<see cref="SpectralNorm"/>), outside the fused functions.
/// </remarks>
public sealed class FusedResidualBlock : ResidualBlockBase
{
    private readonly FusedResidualBranch fused;

    /// <summary>Creates a block features → hidden → features.</summary>
    public FusedResidualBlock(int features, int hiddenFeatures, double coefficient = ResidualBranchOptions.Defaults.Coefficient,
        LipschitzActivation activation = ResidualBranchOptions.Defaults.Activation, int powerIterations = ResidualBranchOptions.Defaults.PowerIterations,
        ScalarType dtype = ScalarType.Float32, Generator? generator = null)
        : this(new ContractiveMlp(features, hiddenFeatures, 2, coefficient, activation, powerIterations, dtype, generator))
    {
    }

    /// <summary>Creates a block around a depth-2 contractive MLP.</summary>
    public FusedResidualBlock(ContractiveMlp residual) : base(nameof(FusedResidualBlock), residual)
    {
        fused = new FusedResidualBranch(residual);
    }

    /// <inheritdoc />
    public override string DisplayName { get; set; } = "fused residual block";

    /// <inheritdoc />
    protected override IFunctionalLayer Branch => fused;

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor[] parameters)
    {
        if (!is_grad_enabled() || !(input.requires_grad || parameters.Any(p => p.requires_grad)))
            return input.Add(fused.Apply(input, parameters));
        return new ForwardCall(fused).Apply([input, .. parameters]);
    }

    /// <summary>y = x + g(x) with backward ∂L/∂x = v + J_gᵀ v and ∂L/∂θ = (∂g/∂θ)ᵀ v, all by hand.</summary>
    private sealed class ForwardCall(FusedResidualBranch branch) : ImplicitFunction
    {
        private FusedResidualBranch.HandLinearization? linearization;

        protected override Tensor Forward(Tensor[] inputs)
        {
            linearization = branch.LinearizeWithOutput(inputs[0], inputs[1..]);
            return inputs[0].Add(linearization.Output);
        }

        protected override Tensor?[] Backward(Tensor output, Tensor[] inputs, Tensor v)
        {
            using var held = linearization!;
            linearization = null;
            var (input, parameters) = held.Backward(v);
            return [input.AddInPlace(v), .. parameters];
        }
    }
}
