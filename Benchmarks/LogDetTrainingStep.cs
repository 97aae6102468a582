using Invertible.Torch.Layers;
using Invertible.Torch.LogDet;
using static TorchSharp.torch;

namespace Invertible.Benchmarks;

/// <summary>
/// Forward and backward of a power-series log-determinant with n terms (d = 64, hidden 256, batch 256, training mode),
/// with the Neumann-series gradient or with autograd through every term.
/// </summary>
internal sealed class LogDetTrainingStep
{
    private readonly ContractiveMlp g;
    private readonly ILogDetEstimator estimator;
    private readonly Tensor input;

    public LogDetTrainingStep(bool neumann, int terms)
    {
        manual_seed(9);
        g = new ContractiveMlp(64, 256, 2, 0.9);
        estimator = new LogDetOptions { Method = LogDetMethod.PowerSeries, Terms = terms, NeumannGradient = neumann }.CreateEstimator();
        input = randn(256, 64);
    }

    public void Run()
    {
        using var scope = NewDisposeScope();
        var evaluation = estimator.Evaluate(g, input, g.EffectiveParameters().ToArray(), differentiable: true);
        evaluation.LogDet.mean().add(evaluation.Residual.square().mean()).backward();
        foreach (var p in g.parameters())
            p.grad?.zero_();
    }
}
