using Invertible.Tests.Support;
using Invertible.Torch;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Tests.Supervised;

/// <summary>Cross-fitting: a member never trains on its own fold, and validation scores each row by the member that held it out.</summary>
[TestClass]
public sealed class CrossFittingTests
{
    private static SupervisedEnsemble Ensemble(SupervisedTask task = SupervisedTask.MulticlassClassification, int outputs = 3)
    {
        var members = new EquilibriumMembers(3, 4, outputs, task, new EquilibriumNetworkOptions { StateFeatures = 8 }, new Generator(5));
        for (var k = 0; k < 3; k++)
            members.InitializeLinear(k, randn(outputs, 4, generator: new Generator((ulong)k + 1)), zeros(outputs));
        return new SupervisedEnsemble(new InputScaling(4), members);
    }

    /// <summary>Training on rows of fold 1 only moves members 0 and 2; member 1 gets no gradient from them.</summary>
    [TestMethod]
    public void TrainingLoss_GivesAMemberNoGradientFromItsOwnFold()
    {
        var ensemble = Ensemble();
        ensemble.train();
        var x = randn(10, 4, generator: new Generator(9));
        var y = randint(0, 3, [10], generator: new Generator(10));
        var loss = CrossFitting.Loss(ensemble)([x, y, full(10, 1L)], new TrainingMetrics());
        loss.backward();
        var members = (EquilibriumMembers)ensemble.Members;
        var (head, skip) = (members.Head.Weight.grad!, members.Skip.Weight.grad!);
        Check.Identical(head[1], zeros_like(head[1]), "member 1's head gradient");
        Check.Identical(skip[1], zeros_like(skip[1]), "member 1's skip gradient");
        Assert.IsTrue(skip[0].abs().sum().ToDouble() > 0 && skip[2].abs().sum().ToDouble() > 0, "members 0 and 2 learn from fold 1");
    }

    /// <summary>The validation loss is each row's loss under the member of its fold — the out-of-fold loss — averaged.</summary>
    [TestMethod]
    public void ValidationLoss_IsTheMeanOfEachRowsLossUnderItsOwnMember()
    {
        var ensemble = Ensemble();
        ensemble.eval();
        var x = randn(12, 4, generator: new Generator(11));
        var y = randint(0, 3, [12], generator: new Generator(12));
        var fold = arange(12).remainder(3);
        using var _ = no_grad();
        var loss = CrossFitting.Loss(ensemble)([x, y, fold], new TrainingMetrics()).ToDouble();
        var scores = ensemble.Members.EvaluateMembers(ensemble.Scaling.call(x)).Scores;
        double expected = 0;
        for (var row = 0; row < 12; row++)
        {
            var member = row % 3;
            expected += nn.functional.cross_entropy(scores[member][row].unsqueeze(0), y[row].unsqueeze(0)).ToDouble() / 12;
        }
        Assert.AreEqual(expected, loss, 1e-5, "the out-of-fold cross-entropy");
        var (oof, targets) = CrossFitting.OutOfFoldScores(ensemble, new TensorBatchSource([x, y, fold]), batchSize: 5);
        for (var row = 0; row < 12; row++)
            Check.TensorsClose(oof[row], scores[row % 3][row], 1e-6, $"row {row}'s out-of-fold scores come from member {row % 3}");
        Check.Identical(targets, y, "targets in row order");
    }

    /// <summary>Selecting on the error: a validated row counts 1 when its member misclassifies it, plus the tie-break weight times its loss.</summary>
    [TestMethod]
    public void ErrorSelection_CountsMisclassifiedRows()
    {
        var ensemble = Ensemble(SupervisedTask.BinaryClassification, 1);
        ensemble.eval();
        var x = randn(30, 4, generator: new Generator(13));
        var y = randint(0, 2, [30], generator: new Generator(14)).to(ScalarType.Float32);
        var fold = arange(30).remainder(3);
        using var _ = no_grad();
        var score = CrossFitting.Loss(ensemble, selectOnError: true)([x, y, fold], new TrainingMetrics()).ToDouble();
        var loss = CrossFitting.Loss(ensemble)([x, y, fold], new TrainingMetrics()).ToDouble();
        var scores = ensemble.Members.EvaluateMembers(ensemble.Scaling.call(x)).Scores;
        var wrong = Enumerable.Range(0, 30).Count(r => scores[r % 3][r][0].ToDouble() > 0 != y[r].ToDouble() > 0.5);
        Assert.AreEqual(wrong / 30.0 + CrossFitting.TieBreakWeight * loss, score, 1e-5, "error rate plus the tie-break");
    }
}
