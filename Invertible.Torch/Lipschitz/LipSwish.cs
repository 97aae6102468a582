using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>
/// LipSwish(x) = x · sigmoid(β x) / 1.1 with a learnable β = softplus(ρ) &gt; 0 (Chen et al., Residual Flows).
/// </summary>
/// <remarks>Swish has Lipschitz constant at most ≈ 1.0998 for every β &gt; 0, so dividing by 1.1 makes it 1-Lipschitz;
/// the softplus keeps β positive whatever the optimiser does to ρ.</remarks>
public sealed class LipSwish : nn.Module<Tensor, Tensor>, IElementwiseActivation
{
    /// <summary>The divisor that makes swish 1-Lipschitz.</summary>
    public const double Scale = 1.1;

    private readonly Parameter rho;

    /// <summary>Creates the activation with β = <paramref name="initialBeta"/> (default 1).</summary>
    public LipSwish(double initialBeta = 1.0, ScalarType dtype = ScalarType.Float32) : base(nameof(LipSwish))
    {
        if (!(initialBeta > 0) || double.IsInfinity(initialBeta))
            throw new ArgumentOutOfRangeException(nameof(initialBeta), initialBeta, "β must be positive and finite.");
        // Inverse softplus: ρ = log(exp(β) − 1).
        rho = new Parameter(tensor(Math.Log(Math.Exp(initialBeta) - 1.0), dtype: dtype));
        RegisterComponents();
    }

    /// <summary>The raw parameter ρ (β = softplus(ρ)).</summary>
    public Parameter Rho => rho;

    /// <summary>The current β.</summary>
    public double Beta
    {
        get
        {
            using var _ = no_grad();
            return nn.functional.softplus(rho).ToDouble();
        }
    }

    /// <inheritdoc />
    public int ParameterCount => 1;

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters()
    {
        yield return rho;
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor input, ReadOnlySpan<Tensor> parameters) => Evaluate(input, nn.functional.softplus(parameters[0]));

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Evaluate(input, nn.functional.softplus(rho));

    /// <inheritdoc />
    public Tensor Derivative(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        // φ'(x) = (s + β x s (1 − s)) / 1.1 with s = sigmoid(β x).
        var beta = nn.functional.softplus(parameters[0]);
        var t = input.mul(beta);
        var s = sigmoid(t);
        return s.add(t.mul(s).mul(s.neg().add(1))).div(Scale);
    }

    /// <summary>x · sigmoid(β x) / 1.1 for a given β tensor.</summary>
    public static Tensor Evaluate(Tensor input, Tensor beta) => input.mul(sigmoid(input.mul(beta))).div_(Scale);
}
