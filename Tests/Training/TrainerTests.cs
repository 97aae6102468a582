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
        Assert.AreEqual(report.History.Min(h => h.ValidationLoss!.Value), report.BestValidationLoss.Value, "the best epoch is the one with the lowest validation loss");
        Check.Less(report.BestValidationLoss.Value, report.Last.ValidationLoss!.Value, "the last epoch, three after the best, is worse");
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

    [TestMethod]
    public void Fit_FromAStreamingBatchSource_TrainsAndValidates()
    {
        var (model, x, y) = Regression();
        var source = new ChunkedSource(x[40..], y[40..]);
        var report = Trainer.Fit(model, source, new ChunkedSource(x[..40], y[..40]), MeanSquaredError(model),
            new TrainerOptions { Epochs = 20, BatchSize = 32, LearningRate = 0.05 });
        Check.Less(report.Last.ValidationLoss!.Value, 1e-3, "validation loss after training from the streaming source");
        Assert.AreEqual(20, source.Passes, "one pass over the source per epoch");
        Assert.IsTrue(source.Shuffled, "training passes ask for shuffled batches");
    }

    [TestMethod]
    public void DataHoldingNaN_IsNamedWithItsRowAndColumn_NotBlamedOnTheLearningRate()
    {
        var (model, x, y) = Regression();
        x[7, 2] = tensor(float.NaN);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Trainer.Fit(model, [x, y], MeanSquaredError(model))).Message, "data[0] holds NaN at row 7, column 2");
        var streamed = Assert.ThrowsExactly<InvalidOperationException>(() => Trainer.Fit(model, new ChunkedSource(x, y), null, MeanSquaredError(model)));
        StringAssert.Contains(streamed.Message, "non-finite values");
        Assert.IsFalse(streamed.Message.Contains("learning rate"), streamed.Message);
    }

    [TestMethod]
    public void ValidateBeforeTraining_KeepsTheStartingModel_WhenEveryEpochIsWorse()
    {
        var (model, x, y) = Regression();
        using (no_grad())
        {
            model.parameters().First().copy_(tensor(new[] { 1f, -2f, 0.5f }).view(1, 3));
            model.parameters().Last().fill_(0.1f);
        }
        var start = model.parameters().Select(p => p.detach().clone()).ToArray();
        // Training labels are shifted, validation labels are exact: every epoch moves the model away from the optimum.
        var report = Trainer.Fit(model, new ChunkedSource(x, y.add(5)), new ChunkedSource(x, y), MeanSquaredError(model),
            new TrainerOptions { Epochs = 3, LearningRate = 0.05, ValidateBeforeTraining = true, EarlyStoppingPatience = 0 });
        Assert.AreEqual(0, report.BestEpoch, "the starting model is the best");
        foreach (var (restored, original) in model.parameters().Zip(start))
            Check.Identical(restored.detach(), original, "restored starting weights");
    }

    [TestMethod]
    public void TimeBudget_PlansTheEpochsThatFit_AndTheScheduleEndsWithThem()
    {
        var (model, x, y) = Regression();
        var mse = MeanSquaredError(model);
        // Every batch takes at least 10 ms, so an epoch of 4 batches at least 40 ms: a 1 s budget holds at most 25 epochs.
        MinibatchLoss slow = (batch, metrics) => { Thread.Sleep(10); return mse(batch, metrics); };
        var report = Trainer.Fit(model, new ChunkedSource(x, y), null, slow,
            new TrainerOptions { Epochs = 1000, BatchSize = 100, LearningRate = 0.05, Schedule = LearningRateSchedule.Cosine, TimeBudget = TimeSpan.FromSeconds(1) });
        var epochs = report.History.Count;
        Assert.IsTrue(report.StoppedByTimeBudget && epochs is >= 1 and <= 25, $"{epochs} epochs of 1 000 ran");
        Assert.AreEqual(epochs, report.Last.Epochs, "the last epoch is the last one planned");
        Check.Close(report.Last.LearningRate, 0.05 * (0.01 + 0.99 * 0.5 * (1 + Math.Cos(Math.PI * (epochs - 1) / epochs))), 1e-12,
            "the cosine schedule spans the planned epochs, not the 1 000 asked for");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TrainerOptions { TimeBudget = TimeSpan.Zero }.Validate());
    }

    /// <summary>Batches cut from tensors on the fly, as a stream would deliver them.</summary>
    private sealed class ChunkedSource(Tensor x, Tensor y) : IBatchSource
    {
        public int Passes { get; private set; }
        public bool Shuffled { get; private set; }

        public IEnumerable<IReadOnlyList<Tensor>> Batches(int batchSize, bool shuffle, ulong seed)
        {
            Passes += shuffle ? 1 : 0;
            Shuffled |= shuffle;
            var order = shuffle ? randperm(x.shape[0], generator: new Generator(seed)) : arange(x.shape[0]);
            for (long start = 0; start < x.shape[0]; start += batchSize)
            {
                var rows = order.narrow(0, start, Math.Min(batchSize, x.shape[0] - start));
                yield return [x.index_select(0, rows), y.index_select(0, rows)];
            }
        }
    }

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
