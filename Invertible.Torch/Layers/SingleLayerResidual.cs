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
/// <para>Measured (d = 64, hidden 256, batch 256): one evaluation of the inverse's map 101 µs vs 141 µs for the generic
/// block, one adjoint iteration about half the cost of an autograd VJP.</para>
/// </remarks>
public sealed class SingleLayerResidual : ILinearizable, IResidualIterationMap, IJacobianLayer
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
    public (Tensor Output, Tensor Jacobian) OutputAndJacobian(Tensor input, ReadOnlySpan<Tensor> parameters) => mlp.OutputAndJacobian(input, parameters);

    /// <inheritdoc />
    public ILinearization Linearize(Tensor input, Tensor[] parameters) => new HandLinearization(this, input, parameters);

    /// <summary>
    /// x ↦ y − g(x) in 3–4 tensor operations per evaluation: with LipSwish, β and 1/1.1 are folded into the weights
    /// once (u = β(W₁x + b₁), g = (W₂ / 1.1β)(u ⊙ sigmoid(u)) + b₂), and y − b₂ is the addend of the last product.
    /// </summary>
    public Func<Tensor, Tensor> InverseIterationMap(Tensor output, Tensor[] parameters)
    {
        using var _ = no_grad();
        var p = Unpack(parameters);
        var offset = output.detach().sub(p.B2.detach());
        if (Activation == LipschitzActivation.LipSwish)
        {
            var beta = nn.functional.softplus(p.Rho!.detach());
            var w1 = p.W1.detach().mul(beta).t();
            var b1 = p.B1.detach().mul(beta);
            var w2 = p.W2.detach().div(beta.mul(-LipSwish.Scale)).t();
            return x =>
            {
                var u = addmm(b1, x, w1, 1, 1);
                return addmm(offset, u.mul_(sigmoid(u)), w2, 1, 1);
            };
        }
        var w1t = p.W1.detach().t();
        var b1d = p.B1.detach();
        var w2n = p.W2.detach().neg().t();
        var tanh = Activation == LipschitzActivation.Tanh;
        return x =>
        {
            var z = addmm(b1d, x, w1t, 1, 1);
            return addmm(offset, tanh ? z.tanh_() : nn.functional.elu(z, 1.0, inplace: true), w2n, 1, 1);
        };
    }

    /// <summary>The linearisation at <paramref name="input"/> together with g(input), from one pass.</summary>
    internal HandLinearization LinearizeWithOutput(Tensor input, Tensor[] parameters) => new(this, input, parameters);

    private (Tensor W1, Tensor B1, Tensor? Rho, Tensor W2, Tensor B2) Unpack(ReadOnlySpan<Tensor> p)
        => Activation == LipschitzActivation.LipSwish ? (p[0], p[1], p[2], p[3], p[4]) : (p[0], p[1], null, p[2], p[3]);

    /// <summary>Saved quantities of one evaluation and the hand-derived VJPs.</summary>
    /// <remarks>
    /// The LipSwish β-gradient needs no pass of its own: with G = W₂ᵀ w (per row) and ∂L/∂z = G ⊙ φ'(z),
    /// Σ G ⊙ ∂φ/∂β = (⟨∂L/∂z, z⟩ − ⟨G, a⟩) / β, because z² s (1 − s) = z (1.1 φ' − s) / β and z s = 1.1 a.
    /// </remarks>
    internal sealed class HandLinearization : ILinearization
    {
        private readonly LipschitzActivation activation;
        private readonly Tensor x, z, w1, w2, a;
        private readonly Tensor? rho, beta, t, s;
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
                    t = z.mul(beta);
                    s = sigmoid(t);
                    a = z.mul(s).div_(LipSwish.Scale);
                    break;
            }
            Output = addmm(p.B2.detach(), a, w2.t(), 1, 1);
            // Autograd may call backward after the caller's dispose scope has ended; these live until Dispose.
            foreach (var held in new[] { x, w1, w2, z, a, rho, beta, t, s, Output })
                held?.DetachFromDisposeScope();
        }

        /// <summary>g(x).</summary>
        public Tensor Output { get; }

        /// <summary>
        /// φ'(z), computed on first use (the forward pass alone does not need it) and kept out of the caller's dispose
        /// scope: the first use is typically inside one solver iteration.
        /// </summary>
        private Tensor Derivative => derivative ??= (activation switch
        {
            LipschitzActivation.Tanh => a.square().neg_().add_(1),
            LipschitzActivation.Elu => where(z.gt(0), ones_like(z), a.add(1)),
            _ => addcmul(s!, t!, addcmul(s!, s!, s!, -1), 1).div_(LipSwish.Scale),
        }).DetachFromDisposeScope();

        public Tensor InputVjp(Tensor w)
        {
            using var _ = no_grad();
            return w.mm(w2).mul_(Derivative).mm(w1);
        }

        public Func<Tensor, Tensor> AdjointIterationMap(Tensor v)
        {
            var vDetached = v.detach();
            return w =>
            {
                using var _ = no_grad();
                return addmm(vDetached, w.mm(w2).mul_(Derivative), w1, 1, -1);
            };
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
                var gradBeta = gradZ.flatten().dot(z.flatten()).sub_(gradA.flatten().dot(a.flatten())).div_(beta!);
                grads.Add(gradBeta.mul_(sigmoid(rho)).reshape(rho.shape));
            }
            grads.Add(w.t().mm(a));
            grads.Add(w.sum(dim: 0));
            return (gradZ.mm(w1), [.. grads]);
        }

        public void Dispose()
        {
            foreach (var held in new[] { x, w1, w2, z, a, rho, beta, t, s, derivative, Output })
                held?.Dispose();
        }
    }
}
