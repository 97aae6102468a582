using Invertible.Tests.Support;
using Invertible.Torch.Training;
using static TorchSharp.torch;

namespace Invertible.Tests.Training;

[TestClass]
public sealed class TrainerTests
{
    private static (nn.Module<Tensor, Tensor> Model, Tensor X, Tensor Y) Regression()
    {
        manual_seed(81);
        var x = randn(400, 3);
        var y = x.mm(tensor(new[] { 1f, -2f, 0.5f }).view(3, 1)).add(0.1f);
        return (nn.Linear(3, 1), x, y);
    }

    private static MinibatchLoss MeanSquaredError(nn.Module<Tensor, Tensor> model)
        => (batch, metrics) => { metrics.Add("rows", batch[0].shape[0]); return model.call(batch[0]).sub(batch[1]).square().mean(); };

    [TestMethod]
    public void Fit_ReducesTheLoss_ReportsEveryEpoch_AndIsSeeded()
    {
        var reports = new List<TrainingProgress>();
        var (model, x, y) = Regression();
        var report = Trainer.Fit(model, [x, y], MeanSquaredError(model),
            new TrainerOptions { Epochs = 30, BatchSize = 32, LearningRate = 0.05, Seed = 3, Schedule = LearningRateSchedule.Cosine },
            new SynchronousProgress(reports.Add));
        Assert.AreEqual(report.History.Count, reports.Count, "one progress report per epoch");
        Check.Less(report.Last.ValidationLoss!.Value, 1e-3, "validation loss after training");
        Check.Less(report.Last.LearningRate, 0.05 * 0.05, "cosine schedule decays the rate");
        Assert.IsTrue(reports[0].Metrics.ContainsKey("rows"), "metrics recorded by the loss are averaged per epoch");

        var (again, x2, y2) = Regression();
        var second = Trainer.Fit(again, [x2, y2], MeanSquaredError(again),
            new TrainerOptions { Epochs = 30, BatchSize = 32, LearningRate = 0.05, Seed = 3, Schedule = LearningRateSchedule.Cosine });
        Assert.AreEqual(report.Last.TrainLoss, second.Last.TrainLoss, 1e-12, "the same seed gives the same run");
    }

    [TestMethod]
    public void EarlyStopping_StopsAndRestoresTheBestWeights()
    {
        var (model, x, y) = Regression();
        // Labels of the validation rows are noise: the validation loss stops improving quickly.
        var noisy = y.add(randn_like(y).mul(3));
        var report = Trainer.Fit(model, [x, noisy], MeanSquaredError(model),
            new TrainerOptions { Epochs = 200, BatchSize = 16, LearningRate = 0.2, EarlyStoppingPatience = 3, Seed = 1 });
        Assert.IsTrue(report.StoppedEarly, $"ran {report.History.Count} epochs");
        Assert.AreEqual(report.BestEpoch + 3, report.History.Count, "stops patience epochs after the best");
        // The trainer holds out the first ⌈0.1 n⌉ rows of a permutation drawn from the seed.
        var validation = randperm(400, generator: new Generator(1))[..40];
        var restored = Trainer.Evaluate(model, [x.index_select(0, validation), noisy.index_select(0, validation)], MeanSquaredError(model));
        Check.Close(restored, report.BestValidationLoss!.Value, 1e-6, "restored weights give the best validation loss");
        Check.Less(report.BestValidationLoss.Value, report.Last.ValidationLoss!.Value + 1e-12, "the best epoch is not the last");
    }

    [TestMethod]
    public void Cancellation_ThrowsOperationCanceled()
    {
        var (model, x, y) = Regression();
        using var source = new CancellationTokenSource();
        source.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => Trainer.Fit(model, [x, y], MeanSquaredError(model), cancellationToken: source.Token));
    }

    [TestMethod]
    public void DivergingLoss_FailsWithAClearMessage()
    {
        var (model, x, y) = Regression();
        var failure = Assert.ThrowsExactly<InvalidOperationException>(() =>
            Trainer.Fit(model, [x, y], (batch, _) => model.call(batch[0]).sum().mul(double.NaN), new TrainerOptions { Epochs = 1 }));
        StringAssert.Contains(failure.Message, "diverged");
    }

    [TestMethod]
    public void BadArguments_AreRejected()
    {
        var (model, x, y) = Regression();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Trainer.Fit(model, [x, y[..10]], MeanSquaredError(model))).Message, "same number of rows");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Trainer.Fit(model, [x, y], MeanSquaredError(model), new TrainerOptions { BatchSize = 0 })).Message, "BatchSize");
    }

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
