using Invertible.Torch.Core;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>
/// A linear layer y = W̃ x + b whose effective weight W̃ = W / max(1, σ(W) / c) has spectral norm at most c.
/// </summary>
/// <remarks>
/// <para>σ(W) comes from <see cref="SpectralNorm"/>, warm-started from the persistent buffers <c>u</c>, <c>v</c>.
/// In training mode each forward advances them by <see cref="PowerIterations"/> iterations (the i-ResNet scheme:
/// the singular vectors track the weights as they move). In evaluation mode they are frozen.</para>
/// <para>A few iterations per step can lag behind a weight that moves fast, which would let σ(W̃) exceed c. So that
/// the bound holds wherever the layer is used for inference, switching to evaluation mode (<c>eval()</c> or
/// <c>train(false)</c>) first runs the power iteration to convergence.</para>
/// </remarks>
public sealed class SpectralNormLinear : nn.Module<Tensor, Tensor>, IFunctionalLayer, ILipschitzBounded
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Tensor u;
    private readonly Tensor v;
    private readonly VersionedCache<Tensor> evaluationWeight = new();

    /// <summary>Creates the layer with PyTorch's default initialisation for linear layers, then normalises it.</summary>
    /// <param name="inFeatures">Input width (≥ 1).</param>
    /// <param name="outFeatures">Output width (≥ 1).</param>
    /// <param name="coefficient">Bound c on the spectral norm of the effective weight, 0 &lt; c &lt; 1 for contractions (c ≤ 1 allowed).</param>
    /// <param name="powerIterations">Power iterations per training forward (≥ 1). Default 1.</param>
    /// <param name="hasBias">Whether the layer has a bias.</param>
    /// <param name="dtype">Parameter type (default float32).</param>
    /// <param name="generator">Random source for the initial weights.</param>
    public SpectralNormLinear(int inFeatures, int outFeatures, double coefficient, int powerIterations = 1,
        bool hasBias = true, ScalarType dtype = ScalarType.Float32, Generator? generator = null)
        : base(nameof(SpectralNormLinear))
    {
        if (inFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, "Must be at least 1.");
        if (outFeatures < 1) throw new ArgumentOutOfRangeException(nameof(outFeatures), outFeatures, "Must be at least 1.");
        if (!(coefficient > 0 && coefficient <= 1))
            throw new ArgumentOutOfRangeException(nameof(coefficient), coefficient, "The Lipschitz coefficient must lie in (0, 1].");
        if (powerIterations < 1)
            throw new ArgumentOutOfRangeException(nameof(powerIterations), powerIterations, "Must be at least 1.");

        Coefficient = coefficient;
        PowerIterations = powerIterations;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;

        // PyTorch's nn.Linear initialisation: U(−1/√fan_in, 1/√fan_in) for weight and bias.
        var bound = 1.0 / Math.Sqrt(inFeatures);
        weight = new Parameter(rand([outFeatures, inFeatures], dtype: dtype, generator: generator).MulInPlace(2 * bound).SubInPlace(bound));
        bias = hasBias ? new Parameter(rand([outFeatures], dtype: dtype, generator: generator).MulInPlace(2 * bound).SubInPlace(bound)) : null;

        var start = SpectralNorm.Compute(weight.detach(), generator: generator);
        u = start.U.detach().clone();
        v = start.V.detach().clone();
        register_buffer("u", u);
        register_buffer("v", v);
        RegisterComponents();
    }

    /// <summary>The bound c on the spectral norm of the effective weight.</summary>
    public double Coefficient { get; }

    /// <summary>Power iterations per training forward.</summary>
    public int PowerIterations { get; }

    /// <summary>Input width.</summary>
    public int InFeatures { get; }

    /// <summary>Output width.</summary>
    public int OutFeatures { get; }

    /// <summary>The unnormalised weight W (shape [out, in]).</summary>
    public Parameter Weight => weight;

    /// <summary>The bias, or null.</summary>
    public Parameter? Bias => bias;

    /// <inheritdoc />
    public int ParameterCount => bias is null ? 1 : 2;

    /// <summary>The effective weight W / max(1, σ/c): in training mode this advances u, v by <see cref="PowerIterations"/>.</summary>
    public Tensor EffectiveWeight()
    {
        Tensor sigma;
        if (training)
        {
            var result = SpectralNorm.Compute(weight, u, v, SpectralNormOptions.FixedIterations(PowerIterations));
            using (no_grad())
            {
                u.copy_(result.U);
                v.copy_(result.V);
            }
            sigma = result.Sigma;
        }
        else if (!(is_grad_enabled() && weight.requires_grad) && VersionedCache<Tensor>.Enabled)
        {
            // Without gradients the evaluation weight is a pure function of W, u and v: computed once per version of
            // the three (an optimiser step, copy_ or load_state_dict bumps a version), not on every call.
            Tensor?[] sources = [weight, u, v];
            using var _ = no_grad();
            return evaluationWeight.TryGet(sources) ?? evaluationWeight.Store(sources, Normalised(FrozenSigma()).DetachFromDisposeScope());
        }
        else
        {
            sigma = FrozenSigma();
        }
        return Normalised(sigma);
    }

    // Frozen vectors: σ = uᵀ W v, whose gradient u vᵀ is what the autograd function would give.
    private Tensor FrozenSigma() => u.dot(weight.mv(v));

    private Tensor Normalised(Tensor sigma) => weight.div(sigma.Div(Coefficient).ClampMin(1.0));

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters()
    {
        yield return EffectiveWeight();
        if (bias is not null)
            yield return bias;
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor input, ReadOnlySpan<Tensor> parameters)
        => nn.functional.linear(input, parameters[0], parameters.Length > 1 ? parameters[1] : null);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (input.shape[^1] != InFeatures)
            throw new ArgumentException($"Expected inputs with {InFeatures} features in the last dimension, got shape [{string.Join(", ", input.shape)}].", nameof(input));
        return nn.functional.linear(input, EffectiveWeight(), bias);
    }

    /// <summary>Runs the power iteration from the stored vectors to convergence and stores the result.</summary>
    /// <returns>Whether the iteration converged.</returns>
    public bool RefreshSingularVectors(SpectralNormOptions? options = null)
    {
        using var _ = no_grad();
        var result = SpectralNorm.Compute(weight.detach(), u, v, options);
        u.copy_(result.U);
        v.copy_(result.V);
        return result.Converged;
    }

    /// <summary>Exact spectral norm of the effective weight as evaluated now (σ(W) by SVD, frozen u, v).</summary>
    public double LipschitzBound()
    {
        using var _ = no_grad();
        var sigmaEstimate = u.dot(weight.mv(v)).ReadDouble();
        var scale = Math.Max(1.0, sigmaEstimate / Coefficient);
        return HeldScalars.SpectralNorm(weight.detach()).ReadDouble() / scale;
    }

    /// <summary>Switches mode; entering evaluation mode converges the power iteration so the bound c holds.</summary>
    public override void train(bool on = true)
    {
        if (!on && training)
            RefreshSingularVectors();
        base.train(on);
    }
}
