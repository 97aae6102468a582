using System.Globalization;
using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.LogDet;
using TorchSharp.Utils;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// What every invertible residual block y = x + g(x) with Lip(g) &lt; 1 shares: the residual branch g (registered as
/// "g", so blocks of different kinds load each other's weights), argument checks, the log-determinant, the implicit
/// inverse and the bound.
/// </summary>
/// <remarks>
/// <para>F(x) = x + g(x) is bi-Lipschitz when Lip(g) &lt; 1: the inverse is the unique fixed point of x ↦ y − g(x),
/// found by <see cref="ResidualInverse"/> with any fixed-point solver and differentiated implicitly.</para>
/// <para>log|det(I + J_g(x))| comes from a log-determinant estimator, one for training mode and one for evaluation
/// mode (<see cref="TrainingLogDet"/>, <see cref="EvaluationLogDet"/>; both exact by default).</para>
/// </remarks>
public abstract class ResidualBlockBase : nn.Module<Tensor, Tensor>, IInvertibleLayer, ILipschitzBounded
{
    private LogDetOptions trainingLogDet = LogDetOptions.Exact, evaluationLogDet = LogDetOptions.Exact;
    private ILogDetEstimator trainingEstimator = LogDetOptions.Exact.CreateEstimator(), evaluationEstimator = LogDetOptions.Exact.CreateEstimator();

    /// <summary>Registers <paramref name="residual"/> as the submodule "g".</summary>
    protected ResidualBlockBase(string name, ContractiveMlp residual) : base(name)
    {
        Residual = residual ?? throw new ArgumentNullException(nameof(residual));
        register_module("g", residual);
    }

    /// <summary>Log-determinant estimator in training mode. Default exact.</summary>
    public LogDetOptions TrainingLogDet
    {
        get => trainingLogDet;
        set => trainingEstimator = (trainingLogDet = value ?? throw new ArgumentNullException(nameof(value))).CreateEstimator();
    }

    /// <summary>Log-determinant estimator in evaluation mode (log-likelihoods, anomaly scores, export). Default exact.</summary>
    public LogDetOptions EvaluationLogDet
    {
        get => evaluationLogDet;
        set => evaluationEstimator = (evaluationLogDet = value ?? throw new ArgumentNullException(nameof(value))).CreateEstimator();
    }

    /// <summary>Random source for stochastic log-determinant estimators (null: the global generator).</summary>
    public Generator? Generator { get; set; }

    /// <summary>The residual branch g.</summary>
    /// <remarks>The backing field carries the name "g": a parent's RegisterComponents registers the fields of its
    /// children by name, and under the compiler's field name the branch would be registered a second time (every
    /// checkpoint holding it twice, and a standalone block's state_dict not loading into the same block in a flow).</remarks>
    [field: ComponentName(Name = "g")]
    public ContractiveMlp Residual { get; }

    /// <inheritdoc />
    public int Features => Residual.Features;

    /// <summary>Name used in statistics and error messages.</summary>
    public abstract string DisplayName { get; set; }

    /// <summary>g as the inverse and the forward evaluate it.</summary>
    protected abstract IFunctionalLayer Branch { get; }

    /// <summary>x + g(x) with the given effective parameters.</summary>
    protected abstract Tensor Forward(Tensor input, Tensor[] parameters);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        return Forward(input, Branch.EffectiveParameters().ToArray());
    }

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        var parameters = Branch.EffectiveParameters().ToArray();
        var differentiable = is_grad_enabled() && (input.requires_grad || parameters.Any(p => p.requires_grad));
        var estimator = training ? trainingEstimator : evaluationEstimator;
        var evaluation = estimator.Evaluate(Branch, input, parameters, differentiable, Generator);
        return (input.Add(evaluation.Residual), evaluation.LogDet);
    }

    /// <inheritdoc />
    public Tensor Inverse(Tensor output, ImplicitOptions? options = null) => InverseWithStatistics(output, options).Input;

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        RowInput.Check(output, Features, nameof(output));
        var parameters = Branch.EffectiveParameters().ToArray();
        var (input, statistics) = ResidualInverse.Solve(Branch, output, parameters, options, "inverse of the " + DisplayName);
        return new InverseResult(input, [statistics]);
    }

    /// <summary>1 + Lip(g): the Lipschitz bound of F (F⁻¹'s is 1 / (1 − Lip(g))).</summary>
    public double LipschitzBound() => 1 + Residual.LipschitzBound();

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{DisplayName} ({Features} features, depth {Residual.Depth})");
}
