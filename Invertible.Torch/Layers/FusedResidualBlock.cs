using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// Invertible residual block y = x + W₂ φ(W₁ x + b₁) + b₂ whose forward, backward, inverse and inverse backward are
/// all hand-derived (<see cref="SingleLayerResidual"/>): no autograd tape inside the block.
/// </summary>
/// <remarks>
/// Same values and gradients as a <see cref="ResidualBlock"/> of depth 2, whose weights it can load
/// (<c>load_state_dict</c>: the parameter names match). The spectral normalisation of W₁, W₂ stays in autograd
/// (<see cref="SpectralNorm"/>), outside the fused functions.
/// </remarks>
public sealed class FusedResidualBlock : ResidualBlockBase
{
    private readonly SingleLayerResidual fused;

    /// <summary>Creates a block features → hidden → features.</summary>
    public FusedResidualBlock(int features, int hiddenFeatures, double coefficient = ResidualBlockOptions.Defaults.Coefficient,
        LipschitzActivation activation = ResidualBlockOptions.Defaults.Activation, int powerIterations = 1,
        ScalarType dtype = ScalarType.Float32, Generator? generator = null)
        : this(new ContractiveMlp(features, hiddenFeatures, 2, coefficient, activation, powerIterations, dtype, generator))
    {
    }

    /// <summary>Creates a block around a depth-2 contractive MLP.</summary>
    public FusedResidualBlock(ContractiveMlp residual) : base(nameof(FusedResidualBlock), residual)
    {
        fused = new SingleLayerResidual(residual);
    }

    /// <inheritdoc />
    public override string DisplayName { get; set; } = "fused residual block";

    /// <inheritdoc />
    protected override IFunctionalLayer Branch => fused;

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor[] parameters)
    {
        if (!is_grad_enabled() || !(input.requires_grad || parameters.Any(p => p.requires_grad)))
            return input.add(fused.Apply(input, parameters));
        return ForwardFunction.apply([fused, input, .. parameters])[0];
    }

    /// <summary>y = x + g(x) with backward ∂L/∂x = v + J_gᵀ v and ∂L/∂θ = (∂g/∂θ)ᵀ v, all by hand.</summary>
    private sealed class ForwardFunction : autograd.MultiTensorFunction<ForwardFunction>
    {
        public override string Name => "FusedResidualForward";

        public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var residual = (SingleLayerResidual)vars[0];
            var x = (Tensor)vars[1];
            var parameters = vars.Skip(2).Cast<Tensor>().ToArray();
            var linearization = residual.LinearizeWithOutput(x, parameters);
            ctx.save_data("linearization", linearization);
            using var _ = no_grad();
            return [x.add(linearization.Output)];
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grads)
        {
            using var linearization = (SingleLayerResidual.HandLinearization)ctx.get_data("linearization");
            var v = grads[0];
            var (input, parameters) = linearization.Backward(v);
            return [null!, input.add_(v), .. parameters.Select(t => t!)];
        }
    }
}
