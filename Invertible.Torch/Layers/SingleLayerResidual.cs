using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// The single-hidden-layer residual branch g(x) = W₂ φ(W₁ x + b₁) + b₂, evaluated and differentiated by hand.
/// </summary>
/// <remarks>
/// <para>Parameters are those of a depth-2 <see cref="ContractiveMlp"/> (effective W₁, b₁, [ρ for LipSwish], W₂, b₂),
/// so a generic and a fused block can share weights. With z = W₁ x + b₁, a = φ(z), D = diag φ'(z):</para>
/// <para>J_gᵀ w = W₁ᵀ D W₂ᵀ w;  ∂/∂W₂: w aᵀ;  ∂/∂b₂: w;  ∂/∂W₁: (D W₂ᵀ w) xᵀ;  ∂/∂b₁: D W₂ᵀ w;
/// ∂/∂ρ (LipSwish, β = softplus ρ): Σ (W₂ᵀ w) ⊙ ∂φ/∂β · sigmoid(ρ), with
/// φ = z s / 1.1, φ' = (s + β z s (1 − s)) / 1.1, ∂φ/∂β = z² s (1 − s) / 1.1, s = sigmoid(β z).</para>
/// </remarks>
public sealed class SingleLayerResidual : ILinearizable
{
    private readonly ContractiveMlp mlp;

    /// <summary>Wraps a depth-2 contractive MLP.</summary>
    public SingleLayerResidual(ContractiveMlp mlp)
    {
        ArgumentNullException.ThrowIfNull(mlp);
        if (mlp.Depth != 2)
            throw new ArgumentException($"The fused residual needs exactly two linear layers; this MLP has {mlp.Depth}.", nameof(mlp));
        this.mlp = mlp;
    }

    /// <summary>The activation φ.</summary>
    public LipschitzActivation Activation => mlp.Activation;

    /// <inheritdoc />
    public int ParameterCount => mlp.ParameterCount;

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters() => mlp.EffectiveParameters();

    /// <inheritdoc />
    public Tensor Apply(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var p = Unpack(parameters);
        var z = addmm(p.B1, input, p.W1.t(), 1, 1);
        var a = Activation switch
        {
            LipschitzActivation.Tanh => z.tanh(),
            LipschitzActivation.Elu => nn.functional.elu(z, 1.0),
            _ => LipSwish.Evaluate(z, nn.functional.softplus(p.Rho!)),
        };
        return addmm(p.B2, a, p.W2.t(), 1, 1);
    }

    /// <inheritdoc />
    public ILinearization Linearize(Tensor input, Tensor[] parameters) => new HandLinearization(this, input, parameters);

    /// <summary>The linearisation at <paramref name="input"/> together with g(input), from one pass.</summary>
    internal HandLinearization LinearizeWithOutput(Tensor input, Tensor[] parameters) => new(this, input, parameters);

    private (Tensor W1, Tensor B1, Tensor? Rho, Tensor W2, Tensor B2) Unpack(ReadOnlySpan<Tensor> p)
        => Activation == LipschitzActivation.LipSwish ? (p[0], p[1], p[2], p[3], p[4]) : (p[0], p[1], null, p[2], p[3]);

    /// <summary>Saved quantities of one evaluation and the hand-derived VJPs.</summary>
    internal sealed class HandLinearization : ILinearization
    {
        private readonly LipschitzActivation activation;
        private readonly Tensor x, z, w1, w2, a;
        private readonly Tensor? rho, beta, s;
        private Tensor? derivative;

        public HandLinearization(SingleLayerResidual owner, Tensor input, Tensor[] parameters)
        {
            using var _ = no_grad();
            activation = owner.Activation;
            var p = owner.Unpack(parameters);
            x = input.detach();
            w1 = p.W1.detach();
            w2 = p.W2.detach();
            z = addmm(p.B1.detach(), x, w1.t(), 1, 1);
            switch (activation)
            {
                case LipschitzActivation.Tanh:
                    a = z.tanh();
                    break;
                case LipschitzActivation.Elu:
                    a = nn.functional.elu(z, 1.0);
                    break;
                default:
                    rho = p.Rho!.detach();
                    beta = nn.functional.softplus(rho);
                    s = sigmoid(z.mul(beta));
                    a = z.mul(s).div_(LipSwish.Scale);
                    break;
            }
            Output = addmm(p.B2.detach(), a, w2.t(), 1, 1);
            // Autograd may call backward after the caller's dispose scope has ended; these live until Dispose.
            foreach (var t in new[] { x, w1, w2, z, a, rho, beta, s, Output })
                t?.DetachFromDisposeScope();
        }

        /// <summary>g(x).</summary>
        public Tensor Output { get; }

        /// <summary>
        /// φ'(z), computed on first use (the forward pass alone does not need it) and kept out of the caller's
        /// dispose scope: the first use is typically inside one solver iteration.
        /// </summary>
        private Tensor Derivative => derivative ??= (activation switch
        {
            LipschitzActivation.Tanh => a.square().neg_().add_(1),
            LipschitzActivation.Elu => where(z.gt(0), ones_like(z), a.add(1)),
            _ => z.mul(beta!).mul_(s!.mul(s!.neg().add_(1))).add_(s!).div_(LipSwish.Scale),
        }).DetachFromDisposeScope();

        public Tensor InputVjp(Tensor w)
        {
            using var _ = no_grad();
            return w.mm(w2).mul_(Derivative).mm(w1);
        }

        public Tensor?[] ParameterVjp(Tensor w) => Backward(w).Parameters;

        /// <summary>J_gᵀ w and every (∂g/∂θ_i)ᵀ w, sharing the products they have in common.</summary>
        public (Tensor Input, Tensor?[] Parameters) Backward(Tensor w)
        {
            using var _ = no_grad();
            var gradA = w.mm(w2);
            var gradZ = gradA.mul(Derivative);
            var grads = new List<Tensor?> { gradZ.t().mm(x), gradZ.sum(dim: 0) };
            if (rho is not null)
            {
                // ∂φ/∂β = z² s (1 − s) / 1.1 and dβ/dρ = sigmoid(ρ).
                var betaDerivative = z.square().mul_(s!).mul_(s!.neg().add_(1)).div_(LipSwish.Scale);
                grads.Add(gradA.mul_(betaDerivative).sum().mul_(sigmoid(rho)).reshape(rho.shape));
            }
            grads.Add(w.t().mm(a));
            grads.Add(w.sum(dim: 0));
            return (gradZ.mm(w1), [.. grads]);
        }

        public void Dispose()
        {
            foreach (var t in new[] { x, w1, w2, z, a, rho, beta, s, derivative, Output })
                t?.Dispose();
        }
    }
}
