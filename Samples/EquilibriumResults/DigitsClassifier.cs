using Invertible.Torch.Lipschitz;
using System.Diagnostics;
using Invertible.Samples.Shared;
using Invertible.Torch.Core;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Invertible.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Samples.EquilibriumResults;

/// <summary>What the equilibrium classifier measured.</summary>
internal sealed record ClassifierResult(double TestAccuracy, int Correct, int TestRows, double MeanForwardIterations, int MaxForwardIterations,
    double MeanBackwardIterations, int MaxBackwardIterations, int Epochs, TimeSpan Elapsed);

/// <summary>
/// An equilibrium network (projection → contractive cell, implicit backward → linear head) on the digits:
/// one stratified 80/20 split per seed, features standardised with the training split's statistics.
/// </summary>
internal static class DigitsClassifier
{
    public static ClassifierResult Run(int seed, IProgress<string> log)
    {
        var watch = Stopwatch.StartNew();
        manual_seed(3 + seed);
        var (train, test) = Digits.Load().StratifiedSplit(0.2, seed);
        var (trainX, testX) = Standardize(Rows(train), Rows(test));
        var trainY = tensor(train.Labels.Select(l => (long)l).ToArray());
        var testY = tensor(test.Labels.Select(l => (long)l).ToArray());

        var network = new EquilibriumNetwork(Digits.Features, 10, SupervisedTask.MulticlassClassification,
            new EquilibriumNetworkOptions { StateFeatures = 64, InjectionFeatures = 64, Coefficient = 0.9, Activation = LipschitzActivation.Tanh, Equilibrium = new EquilibriumOptions() }, new Generator((ulong)(3 + seed)));
        var forwardIterations = new List<int>();
        var backwardIterations = new List<int>();
        var loss = SupervisedObjective.For(network);
        var report = Trainer.Fit(network, [trainX, trainY], (batch, metrics) =>
            {
                var value = loss(batch, metrics);
                if (metrics.Last("backward iterations") is { } backward)
                    backwardIterations.Add((int)backward);
                forwardIterations.Add((int)metrics.Last("forward iterations")!.Value);
                return value;
            },
            new TrainerOptions { Epochs = 60, BatchSize = 64, LearningRate = 2e-3, Schedule = LearningRateSchedule.Cosine, ValidationFraction = 0.1, EarlyStoppingPatience = 15, Seed = (ulong)(3 + seed) },
            new Progress<TrainingProgress>(p => { if (p.Epoch % 5 == 0) log.Report($"    {p}"); }));

        var predictions = SupervisedObjective.Predict(network, testX);
        var correct = (int)predictions.eq(testY).sum().ToInt64();
        return new ClassifierResult((double)correct / test.Labels.Length, correct, test.Labels.Length,
            forwardIterations.Average(), forwardIterations.Max(), backwardIterations.Average(), backwardIterations.Max(), report.History.Count, watch.Elapsed);
    }

    private static Tensor Rows(Digits digits) => tensor(digits.Pixels.SelectMany(r => r).ToArray()).view(-1, Digits.Features);

    private static (Tensor Train, Tensor Test) Standardize(Tensor train, Tensor test)
    {
        var mean = train.mean([0]);
        var std = train.std(0).clamp_min(1e-3);
        return (train.sub(mean).div(std), test.sub(mean).div(std));
    }
}
