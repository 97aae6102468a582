using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.LogDet;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>
/// An invertible residual block as a flow layer: y = x + g(x) with log|det(I + J_g(x))| from a log-determinant
/// estimator — one for training, one (typically exact) for evaluation.
/// </summary>
public sealed class ResidualFlowBlock : nn.Module<Tensor, (Tensor Output, Tensor LogDet)>, IFlowLayer
{
    private readonly ResidualBlock block;
    private readonly ILogDetEstimator trainingEstimator;
    private readonly ILogDetEstimator evaluationEstimator;

    /// <summary>Wraps a residual block.</summary>
    public ResidualFlowBlock(ResidualBlock block, LogDetOptions training, LogDetOptions evaluation) : base(nameof(ResidualFlowBlock))
    {
        this.block = block ?? throw new ArgumentNullException(nameof(block));
        trainingEstimator = (training ?? throw new ArgumentNullException(nameof(training))).CreateEstimator();
        evaluationEstimator = (evaluation ?? throw new ArgumentNullException(nameof(evaluation))).CreateEstimator();
        RegisterComponents();
    }

    /// <summary>The residual block.</summary>
    public ResidualBlock Block => block;

    /// <inheritdoc />
    public int Features => block.Features;

    /// <summary>Random source for stochastic estimators (null: the global generator).</summary>
    public Generator? Generator { get; set; }

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) Forward(Tensor input) => forward(input);

    /// <inheritdoc />
    public override (Tensor Output, Tensor LogDet) forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        var g = block.Residual;
        var parameters = g.EffectiveParameters().ToArray();
        var differentiable = is_grad_enabled() && (input.requires_grad || parameters.Any(p => p.requires_grad));
        var estimator = training ? trainingEstimator : evaluationEstimator;
        var evaluation = estimator.Evaluate(g, input, parameters, differentiable, Generator);
        return (input.add(evaluation.Residual), evaluation.LogDet);
    }

    /// <inheritdoc />
    public Tensor Inverse(Tensor output, ImplicitOptions? options = null) => block.Inverse(output, options);
}
