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
        private readonly Tensor x, w1, w2, a, derivative;
        private readonly Tensor? rho, betaDerivative;

        public HandLinearization(SingleLayerResidual owner, Tensor input, Tensor[] parameters)
        {
            using var _ = no_grad();
            var p = owner.Unpack(parameters);
            x = input.detach();
            w1 = p.W1.detach();
            w2 = p.W2.detach();
            rho = p.Rho?.detach();
            var z = addmm(p.B1.detach(), x, w1.t(), 1, 1);
            switch (owner.Activation)
            {
                case LipschitzActivation.Tanh:
                    a = z.tanh();
                    derivative = a.square().neg_().add_(1);
                    break;
                case LipschitzActivation.Elu:
                    a = nn.functional.elu(z, 1.0);
                    derivative = where(z.gt(0), ones_like(z), a.add(1));
                    break;
                default:
                    var beta = nn.functional.softplus(rho!);
                    var s = sigmoid(z.mul(beta));
                    var sPrime = s.mul(s.neg().add_(1));
                    a = z.mul(s).div_(LipSwish.Scale);
                    derivative = z.mul(beta).mul_(sPrime).add_(s).div_(LipSwish.Scale);
                    betaDerivative = z.square().mul_(sPrime).div_(LipSwish.Scale);
                    break;
            }
            Output = addmm(p.B2.detach(), a, w2.t(), 1, 1);
        }

        /// <summary>g(x).</summary>
        public Tensor Output { get; }

        public Tensor InputVjp(Tensor w) => w.mm(w2).mul_(derivative).mm(w1);

        public Tensor?[] ParameterVjp(Tensor w)
        {
            var gradA = w.mm(w2);
            var gradZ = gradA.mul(derivative);
            var grads = new List<Tensor> { gradZ.t().mm(x), gradZ.sum(dim: 0) };
            if (rho is not null)
                grads.Add(gradA.mul(betaDerivative!).sum().mul(sigmoid(rho)).reshape(rho.shape));
            grads.Add(w.t().mm(a));
            grads.Add(w.sum(dim: 0));
            return [.. grads];
        }

        public void Dispose()
        {
            foreach (var t in new[] { a, derivative, betaDerivative, Output })
                t?.Dispose();
        }
    }
}
