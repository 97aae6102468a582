using Invertible.Torch.Core;
namespace Invertible.Torch.Lipschitz;

/// <summary>
/// The math of each 1-Lipschitz activation, written once for TorchSharp and ONNX (<see cref="ITensorAlgebra{T}"/>):
/// φ(z; β) = b(β) · h(a(β) · z), with φ'(z) = a b h'(a z).
/// </summary>
/// <remarks>
/// <para>Splitting φ into scales and a scale-free h gives the folded form that inverse iterations use: with the scales
/// multiplied into the neighbouring weights once per solve (W₁ ← a W₁, b₁ ← a b₁, W₂ ← b W₂), each evaluation of the
/// branch costs h alone. Parameter-free activations have a = b = 1.</para>
/// <para>LipSwish: a = β, b = 1 / (1.1 β), h(u) = u σ(u), so φ(z) = z σ(β z) / 1.1; Lip(swish) ≤ 1.0998 for every
/// β &gt; 0, hence the 1.1. Tanh: h = tanh, h' = 1 − tanh². ELU (α = 1): h' = min(eᵘ, 1).</para>
/// </remarks>
internal abstract class LipschitzActivationMath
{
    private LipschitzActivationMath() { }

    /// <summary>The math of <paramref name="kind"/>.</summary>
    public static LipschitzActivationMath Of(LipschitzActivation kind) => kind switch
    {
        LipschitzActivation.LipSwish => LipSwishMath.Instance,
        LipschitzActivation.Tanh => TanhMath.Instance,
        LipschitzActivation.Elu => EluMath.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown activation."),
    };

    /// <summary>Which activation this is.</summary>
    public abstract LipschitzActivation Kind { get; }

    /// <summary>Whether φ has the learnable parameter β.</summary>
    public virtual bool HasParameter => false;

    /// <summary>h(u), the scale-free part.</summary>
    public abstract T Folded<T>(ITensorAlgebra<T> ops, T u);

    /// <summary>h'(u).</summary>
    public abstract T FoldedDerivative<T>(ITensorAlgebra<T> ops, T u);

    /// <summary>The scales (a, b) at β, or null when both are 1.</summary>
    public virtual (T Input, T Output)? Scales<T>(ITensorAlgebra<T> ops, T? beta) => null;

    /// <summary>φ(z; β) = b h(a z).</summary>
    public T Value<T>(ITensorAlgebra<T> ops, T z, T? beta = default)
        => Scales(ops, beta) is { } s ? ops.Mul(Folded(ops, ops.Mul(z, s.Input)), s.Output) : Folded(ops, z);

    /// <summary>φ'(z; β) = a b h'(a z).</summary>
    public T Derivative<T>(ITensorAlgebra<T> ops, T z, T? beta = default)
        => Scales(ops, beta) is { } s ? ops.Mul(FoldedDerivative(ops, ops.Mul(z, s.Input)), ops.Mul(s.Input, s.Output)) : FoldedDerivative(ops, z);

    /// <summary>
    /// Σ G ⊙ ∂φ/∂β from two inner products a backward pass already has: ⟨G, φ(z)⟩ and ⟨G ⊙ φ'(z), z⟩. Since
    /// ∂φ/∂β = (b'/b) φ + (a'/a) z φ', no pass of its own is needed.
    /// </summary>
    public virtual T ParameterGradient<T>(ITensorAlgebra<T> ops, T beta, T valueDot, T slopeDot)
        => throw new NotSupportedException($"{Kind} has no parameter.");

    private sealed class LipSwishMath : LipschitzActivationMath
    {
        public static readonly LipSwishMath Instance = new();

        public override LipschitzActivation Kind => LipschitzActivation.LipSwish;

        public override bool HasParameter => true;

        public override T Folded<T>(ITensorAlgebra<T> ops, T u) => ops.Mul(u, ops.Sigmoid(u));

        public override T FoldedDerivative<T>(ITensorAlgebra<T> ops, T u)
        {
            // σ + u σ (1 − σ) = σ + u (σ − σ²)
            var s = ops.Sigmoid(u);
            return ops.Add(s, ops.Mul(u, ops.Sub(s, ops.Mul(s, s))));
        }

        public override (T Input, T Output)? Scales<T>(ITensorAlgebra<T> ops, T? beta) where T : default
        {
            ArgumentNullException.ThrowIfNull(beta);
            return (beta, ops.Div(ops.Constant(1 / LipSwish.Scale), beta));
        }

        // a'/a = 1/β and b'/b = −1/β.
        public override T ParameterGradient<T>(ITensorAlgebra<T> ops, T beta, T valueDot, T slopeDot) => ops.Div(ops.Sub(slopeDot, valueDot), beta);
    }

    private sealed class TanhMath : LipschitzActivationMath
    {
        public static readonly TanhMath Instance = new();

        public override LipschitzActivation Kind => LipschitzActivation.Tanh;

        public override T Folded<T>(ITensorAlgebra<T> ops, T u) => ops.Tanh(u);

        public override T FoldedDerivative<T>(ITensorAlgebra<T> ops, T u)
        {
            var t = ops.Tanh(u);
            return ops.Sub(ops.Constant(1), ops.Mul(t, t));
        }
    }

    private sealed class EluMath : LipschitzActivationMath
    {
        public static readonly EluMath Instance = new();

        public override LipschitzActivation Kind => LipschitzActivation.Elu;

        public override T Folded<T>(ITensorAlgebra<T> ops, T u) => ops.Elu(u);

        // 1 for u > 0 and eᵘ otherwise: min(eᵘ, 1) (an overflowing eᵘ still gives 1).
        public override T FoldedDerivative<T>(ITensorAlgebra<T> ops, T u) => ops.Min(ops.Exp(u), ops.Constant(1));
    }
}
