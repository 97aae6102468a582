using Invertible.Samples.Shared;
using Invertible.Torch;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Onnx;
using Invertible.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Samples.Quickstart;

/// <summary>An equilibrium classifier on the digits, with its solver statistics and its ONNX export.</summary>
internal static class EquilibriumSection
{
    public static void Run()
    {
        Report.Heading("5. Deep equilibrium classifier on the UCI digits (5 epochs, implicit backward)");
        manual_seed(3);
        var (train, test) = Digits.Load().StratifiedSplit(0.2, seed: 0);
        Tensor Rows(Digits d) => tensor(d.Pixels.SelectMany(r => r).ToArray()).view(-1, Digits.Features).div(16);
        var (trainX, testX) = (Rows(train), Rows(test));
        var trainY = tensor(train.Labels.Select(l => (long)l).ToArray());
        var network = new EquilibriumNetwork(Digits.Features, 10, SupervisedTask.MulticlassClassification);
        Trainer.Fit(network, [trainX, trainY], SupervisedObjective.For(network),
            new TrainerOptions { Epochs = 5, BatchSize = 64, LearningRate = 3e-3, ValidationFraction = 0, Seed = 3 },
            new Progress<TrainingProgress>(p => Console.WriteLine($"  {p}")));
        var predicted = SupervisedObjective.Predict(network, testX);
        var correct = predicted.eq(tensor(test.Labels.Select(l => (long)l).ToArray())).sum().ToInt64();
        Console.WriteLine($"  test accuracy {100.0 * correct / test.Labels.Length:F1}% ({correct}/{test.Labels.Length}); last solve: {network.Evaluate(testX).Solve}");

        var onnxLabels = OnnxCheck.Run(EquilibriumExporter.Export(network), "x", testX, "predicted_label");
        var agree = onnxLabels.Zip(predicted.data<long>().ToArray(), (a, b) => (long)a == b).Count(x => x);
        Console.WriteLine($"  ONNX Runtime (solve as a Loop) agrees with TorchSharp on {agree}/{test.Labels.Length} test labels");
    }
}
