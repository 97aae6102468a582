using Invertible.Tests.Support;
using Invertible.Torch.Supervised;
using static TorchSharp.torch;

namespace Invertible.Tests.Supervised;

/// <summary>The linear start's penalty path on wide, long data runs on a subsample and finishes on every row.</summary>
[TestClass]
public sealed class LinearModelFitTests
{
    // Three classes of 20 noisy features, 3 000 rows; the last 600 rows validate (fold 0), the rest train (fold 1).
    private static (Tensor X, Tensor Y, Tensor Folds) Data()
    {
        var generator = new Generator(3);
        var centres = randn(3, 20, dtype: ScalarType.Float64, generator: generator).mul(0.6);
        var y = randint(0, 3, [3000], generator: generator);
        var x = centres.index_select(0, y).add(randn(3000, 20, dtype: ScalarType.Float64, generator: generator));
        var folds = ones(3000, dtype: ScalarType.Int64);
        folds[2400..] = 0;
        return (x, y, folds);
    }

    [TestMethod]
    public void SubsampledPath_EndsAtTheFullDataOptimumOfTheRescaledPenalty_AsGoodAsTheFullPath()
    {
        var (x, y, folds) = Data();
        var full = LinearModelFit.Fit(SupervisedTask.MulticlassClassification, x, y, folds, 1, 3, null, long.MaxValue);
        var sampled = LinearModelFit.Fit(SupervisedTask.MulticlassClassification, x, y, folds, 1, 3, null, 600 * 21);
        Console.WriteLine($"held-out loss: full path {full.HeldOutLoss:F5} (λ {full.Penalty:G3}), subsampled path {sampled.HeldOutLoss:F5} (λ {sampled.Penalty:G3})");
        Check.Less(sampled.HeldOutLoss, full.HeldOutLoss * 1.01, "held-out loss of the subsampled path's model vs the full path's");

        // The returned model minimises the full training rows' penalised loss at the returned λ: its gradient vanishes.
        var train = folds.eq(1).nonzero().squeeze(1);
        var w = sampled.Weights[0].detach().clone().requires_grad_(true);
        var b = sampled.Biases[0].detach().clone().requires_grad_(true);
        var loss = nn.functional.cross_entropy(x.index_select(0, train).mm(w.t()).add(b), y.index_select(0, train)).add(w.square().sum().mul(sampled.Penalty / 2));
        var gradients = autograd.grad([loss], [w, b]);
        Check.AtMost(gradients.Max(g => g.abs().max().item<double>()), 1e-5, "largest gradient entry of the full-data objective");
    }
}
