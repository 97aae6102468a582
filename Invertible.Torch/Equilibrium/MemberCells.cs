using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// The cells of <see cref="EquilibriumMembers"/>: K independent cells evaluated as one batch. States and inputs are
/// member-major rows — rows k·B … (k + 1)·B − 1 of a [K·B, width] tensor belong to member k — so the fixed-point solvers,
/// which work row by row, solve all members at once, and every product is one batched matrix product over members.
/// </summary>
internal interface IMemberCell : IEquilibriumFunction
{
    /// <summary>K.</summary>
    int Members { get; }
}

/// <summary>Batched-matrix helpers of the member cells.</summary>
internal static class MemberRows
{
    /// <summary>[K·B, w] member-major rows as [K, B, w].</summary>
    public static Tensor Split(Tensor rows, int members) => rows.view(members, -1, rows.shape[1]);

    /// <summary>[K, B, w] back to [K·B, w] rows.</summary>
    public static Tensor Join(Tensor batched) => batched.reshape(-1, batched.shape[2]);

    /// <summary>x W_kᵀ + b_k for every member: rows [K·B, in], weight [K, out, in], bias [K, out] → [K, B, out].</summary>
    public static Tensor Affine(Tensor rows, Tensor weight, Tensor? bias, int members)
    {
        var product = Split(rows, members).bmm(weight.transpose(1, 2));
        return bias is null ? product : product.Add(bias.unsqueeze(1));
    }

    /// <summary>U(−1/√fan_in, 1/√fan_in) of [K, out, in] from the generator (PyTorch's linear default).</summary>
    public static Tensor Uniform(long[] shape, long fanIn, ScalarType dtype, Generator? generator)
    {
        var bound = 1.0 / Math.Sqrt(fanIn);
        return rand(shape, dtype: dtype, generator: generator).MulInPlace(2 * bound).SubInPlace(bound);
    }
}

/// <summary>
/// K contractive cells f_k(z, x) = φ(W_k z + U_k x + b_k) with every ‖W_k‖ ≤ c &lt; 1 and φ 1-Lipschitz, batched. Each W_k
/// is normalised as W_k / max(1, σ_k / c): in training σ_k comes from power iterations warm-started from the previous
/// step's vectors (one per step by default, differentiable through σ = uᵀ W v), which may lag a fast-moving W_k — the
/// solves tolerate that while c is well below 1 —; in evaluation from the exact spectral norm, so the bound is certified.
/// </summary>
internal sealed class MemberContractiveCell : nn.Module<Tensor, Tensor, Tensor>, IMemberCell
{
    private readonly Parameter recurrent, injectionWeight, injectionBias;
    private readonly Tensor leftVectors;
    private readonly nn.Module<Tensor, Tensor> activation;
    private readonly VersionedCache<Tensor> evaluationWeight = new();

    /// <summary>Creates K cells.</summary>
    public MemberContractiveCell(int members, int stateFeatures, int inputFeatures, double coefficient = 0.9,
        LipschitzActivation activationKind = LipschitzActivation.Tanh, ScalarType dtype = ScalarType.Float32, int powerIterations = 1,
        Generator? generator = null) : base(nameof(MemberContractiveCell))
    {
        if (members < 1) throw new ArgumentOutOfRangeException(nameof(members), members, "Must be at least 1.");
        if (stateFeatures < 1) throw new ArgumentOutOfRangeException(nameof(stateFeatures), stateFeatures, "Must be at least 1.");
        if (inputFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inputFeatures), inputFeatures, "Must be at least 1.");
        if (!(coefficient > 0 && coefficient < 1)) throw new ArgumentOutOfRangeException(nameof(coefficient), coefficient, "A contraction needs a coefficient in (0, 1).");
        if (powerIterations < 1) throw new ArgumentOutOfRangeException(nameof(powerIterations), powerIterations, "Must be at least 1.");
        (Members, StateFeatures, InputFeatures, Coefficient, PowerIterations, Activation) = (members, stateFeatures, inputFeatures, coefficient, powerIterations, activationKind);
        recurrent = new Parameter(MemberRows.Uniform([members, stateFeatures, stateFeatures], stateFeatures, dtype, generator));
        injectionWeight = new Parameter(MemberRows.Uniform([members, stateFeatures, inputFeatures], inputFeatures, dtype, generator));
        injectionBias = new Parameter(MemberRows.Uniform([members, stateFeatures], inputFeatures, dtype, generator));
        leftVectors = nn.functional.normalize(randn([members, stateFeatures], dtype: dtype, generator: generator), dim: 1);
        register_buffer("left_vectors", leftVectors);
        activation = LipschitzActivations.Create(activationKind, dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public int Members { get; }

    /// <inheritdoc />
    public int StateFeatures { get; }

    /// <inheritdoc />
    public int InputFeatures { get; }

    /// <summary>c: every ‖W_k‖ ≤ c.</summary>
    public double Coefficient { get; }

    /// <summary>Power iterations per training step.</summary>
    public int PowerIterations { get; }

    /// <summary>φ.</summary>
    public LipschitzActivation Activation { get; }

    /// <summary>The activation as a functional layer.</summary>
    public IElementwiseActivation ActivationFunction => (IElementwiseActivation)activation;

    /// <summary>W_k unnormalised, [K, state, state].</summary>
    public Parameter Recurrent => recurrent;

    /// <summary>U_k, [K, state, input].</summary>
    public Parameter InjectionWeight => injectionWeight;

    /// <summary>b_k, [K, state].</summary>
    public Parameter InjectionBias => injectionBias;

    /// <summary>W_k / max(1, σ_k / c), [K, state, state].</summary>
    public Tensor EffectiveWeight()
    {
        if (!training)
        {
            if (!(is_grad_enabled() && recurrent.requires_grad) && VersionedCache<Tensor>.Enabled)
                return evaluationWeight.TryGet([recurrent]) ?? evaluationWeight.Store([recurrent], Certified().detach().DetachFromDisposeScope());
            return Certified();
        }
        using (no_grad())
        {
            var u = leftVectors;
            for (var i = 0; i < PowerIterations; i++)
            {
                var v = nn.functional.normalize(recurrent.transpose(1, 2).bmm(u.unsqueeze(2)).squeeze(2), dim: 1);
                u = nn.functional.normalize(recurrent.bmm(v.unsqueeze(2)).squeeze(2), dim: 1);
            }
            leftVectors.copy_(u);
        }
        var right = nn.functional.normalize(recurrent.transpose(1, 2).bmm(leftVectors.unsqueeze(2)).squeeze(2), dim: 1).detach();
        var sigma = leftVectors.unsqueeze(1).bmm(recurrent).bmm(right.unsqueeze(2)).view(Members, 1, 1);
        return recurrent.div(sigma.Div(Coefficient).ClampMin(1));
    }

    private Tensor Certified()
    {
        var sigma = HeldScalars.SpectralNorm(recurrent).view(Members, 1, 1);
        return recurrent.div(sigma.Div(Coefficient).ClampMin(1));
    }

    /// <summary>The certified bounds ‖W_k‖ of the effective weights in evaluation, [K] (each ≤ c).</summary>
    public Tensor ContractionBounds()
    {
        using var _ = no_grad();
        return HeldScalars.SpectralNorm(Certified());
    }

    /// <inheritdoc />
    public IEnumerable<Tensor> EffectiveParameters()
    {
        yield return EffectiveWeight();
        yield return injectionWeight;
        yield return injectionBias;
        foreach (var p in ActivationFunction.EffectiveParameters())
            yield return p;
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor state, Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var pre = MemberRows.Split(state, Members).bmm(parameters[0].transpose(1, 2)).Add(MemberRows.Affine(input, parameters[1], parameters[2], Members));
        return MemberRows.Join(ActivationFunction.Apply(pre, parameters[3..]));
    }

    /// <inheritdoc />
    public Func<Tensor, Tensor> IterationMap(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var injected = MemberRows.Affine(input, parameters[1], parameters[2], Members);
        var transposed = parameters[0].transpose(1, 2);
        var own = parameters[3..].ToArray();
        var activationFunction = ActivationFunction;
        return state => MemberRows.Join(activationFunction.Apply(MemberRows.Split(state, Members).bmm(transposed).AddInPlace(injected), own));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor state, Tensor input) => Apply(state, input, EffectiveParameters().ToArray());
}

/// <summary>
/// K monotone-operator cells z_k* = ReLU(W_k z_k* + U_k x + b_k), W_k = (1 − m) I − A_kᵀA_k + B_k − B_kᵀ, batched and
/// solved, as <see cref="MonotoneCell"/>, in the Peaceman–Rachford variable s (<see cref="MonotoneSplitting"/>): T(s) = 2V_k(|s| + α_k b̃) − |s| with
/// V_k = (I + α_k(I − W_k))⁻¹ and α_k = 1 / ‖I − W_k‖₂ (exact, per member), z* = ReLU(s*).
/// </summary>
internal sealed class MemberMonotoneCell : nn.Module<Tensor, Tensor, Tensor>, IMemberCell
{
    private readonly Parameter a, b, injectionWeight, injectionBias;
    private readonly VersionedCache<Tensor[]> evaluation = new();

    /// <summary>Creates K cells with monotonicity m.</summary>
    public MemberMonotoneCell(int members, int stateFeatures, int inputFeatures, double monotonicity = 0.5, ScalarType dtype = ScalarType.Float32,
        Generator? generator = null) : base(nameof(MemberMonotoneCell))
    {
        if (members < 1) throw new ArgumentOutOfRangeException(nameof(members), members, "Must be at least 1.");
        if (stateFeatures < 1) throw new ArgumentOutOfRangeException(nameof(stateFeatures), stateFeatures, "Must be at least 1.");
        if (inputFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inputFeatures), inputFeatures, "Must be at least 1.");
        if (!(monotonicity > 0 && monotonicity < 1)) throw new ArgumentOutOfRangeException(nameof(monotonicity), monotonicity, "Must lie in (0, 1).");
        (Members, StateFeatures, InputFeatures, Monotonicity) = (members, stateFeatures, inputFeatures, monotonicity);
        var scale = 0.5 / Math.Sqrt(stateFeatures);
        a = new Parameter(randn([members, stateFeatures, stateFeatures], dtype: dtype, generator: generator).MulInPlace(scale));
        b = new Parameter(randn([members, stateFeatures, stateFeatures], dtype: dtype, generator: generator).MulInPlace(scale));
        injectionWeight = new Parameter(MemberRows.Uniform([members, stateFeatures, inputFeatures], inputFeatures, dtype, generator));
        injectionBias = new Parameter(MemberRows.Uniform([members, stateFeatures], inputFeatures, dtype, generator));
        RegisterComponents();
    }

    /// <inheritdoc />
    public int Members { get; }

    /// <inheritdoc />
    public int StateFeatures { get; }

    /// <inheritdoc />
    public int InputFeatures { get; }

    /// <summary>m: I − W_k ⪰ m I.</summary>
    public double Monotonicity { get; }

    /// <summary>U_k, [K, state, input].</summary>
    public Parameter InjectionWeight => injectionWeight;

    /// <summary>b_k, [K, state].</summary>
    public Parameter InjectionBias => injectionBias;

    /// <summary>W_k, [K, state, state].</summary>
    public Tensor Weight()
    {
        var identity = eye(StateFeatures, dtype: a.dtype, device: a.device).Mul(1 - Monotonicity);
        return identity.sub(a.transpose(1, 2).bmm(a)).Add(b).sub(b.transpose(1, 2));
    }

    /// <summary>[V, U, b, α]: V_k = (I + α_k(I − W_k))⁻¹ [K, state, state] (differentiable), U, b, and α [K, 1, 1] (constant).</summary>
    public IEnumerable<Tensor> EffectiveParameters()
    {
        var cacheable = !training && !is_grad_enabled() && VersionedCache<Tensor[]>.Enabled;
        Tensor?[] sources = [a, b, injectionWeight, injectionBias];
        if (cacheable && evaluation.TryGet(sources) is { } cached)
            return cached;
        var identity = eye(StateFeatures, dtype: a.dtype, device: a.device);
        var complement = identity.sub(Weight());
        Tensor step;
        using (no_grad())
            step = HeldScalars.SpectralNorm(complement.detach()).reciprocal().view(Members, 1, 1);
        var resolvent = linalg.inv(identity.Add(complement.mul(step)));
        Tensor[] parameters = [resolvent, injectionWeight, injectionBias, step];
        return cacheable ? evaluation.Store(sources, [.. parameters.Select(p => p.detach().DetachFromDisposeScope())]) : parameters;
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor state, Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var (resolvent, weight, bias, step) = (parameters[0], parameters[1], parameters[2], parameters[3]);
        var transposed = resolvent.transpose(1, 2);
        var injected = MemberRows.Affine(input, weight, bias, Members).mul(step);
        return MemberRows.Join(MonotoneSplitting.Step(MemberRows.Split(state, Members), injected, r => r.bmm(transposed)));
    }

    /// <inheritdoc />
    public Func<Tensor, Tensor> IterationMap(Tensor input, ReadOnlySpan<Tensor> parameters)
    {
        var (resolvent, weight, bias, step) = (parameters[0], parameters[1], parameters[2], parameters[3]);
        var transposed = resolvent.transpose(1, 2);
        var map = MonotoneSplitting.IterationMap(MemberRows.Affine(input, weight, bias, Members).mul(step), r => r.bmm(transposed));
        var members = Members;
        return s => MemberRows.Join(map(MemberRows.Split(s, members)));
    }

    /// <summary>z* = ReLU(s*).</summary>
    public Tensor Output(Tensor state) => nn.functional.relu(state);

    /// <inheritdoc />
    public override Tensor forward(Tensor state, Tensor input) => Apply(state, input, EffectiveParameters().ToArray());
}
