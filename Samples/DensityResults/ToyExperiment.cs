using System.Diagnostics;
using Invertible.Samples.Shared;
using Invertible.Torch.Data;
using Invertible.Torch.Flows;
using Invertible.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Samples.DensityResults;

/// <summary>One 2-D toy density: its generator and, where it has one, its exact log-density.</summary>
internal sealed record ToySet(string Name, Func<int, Generator, Tensor> Generate, Func<Tensor, Tensor>? ExactLogProb, string Target, int Epochs);

/// <summary>What a toy experiment measured (nats; energy distances of 2 000 samples against 2 000 test points).</summary>
internal sealed record ToyResult(string Name, double FlowNll, double? ExactNll, double GaussianNll, double FlowEnergy, double GaussianEnergy,
    string Target, int Epochs, TimeSpan Elapsed);

/// <summary>Trains an invertible-ResNet flow on a toy density and compares it with the exact density and a Gaussian.</summary>
internal static class ToyExperiment
{
    public static readonly ToySet[] Sets =
    [
        new("8-gaussians", (n, g) => ToyDensities.EightGaussians(n, g), ToyDensities.EightGaussiansLogProb, "within 0.1 of exact", 60),
        new("checkerboard", (n, g) => ToyDensities.Checkerboard(n, g), ToyDensities.CheckerboardLogProb, "≤ ln 32 + 0.2 = 3.666", 350),
        new("two-moons", (n, g) => ToyDensities.TwoMoons(n, g), null, "below the Gaussian", 60),
    ];

    public static ToyResult Run(ToySet set, InvertibleResNetFlowOptions architecture, TrainerOptions training, int trainRows, int testRows)
    {
        var watch = Stopwatch.StartNew();
        manual_seed(1);
        var train = set.Generate(trainRows, new Generator(11));
        var test = set.Generate(testRows, new Generator(12));
        var flow = new InvertibleResNetFlow(2, architecture);
        var report = Trainer.Fit(flow, [train], (batch, _) => flow.LogProb(batch[0]).mean().neg(), training,
            new Progress<TrainingProgress>(p => { if (p.Epoch % 10 == 0 || p.Epoch == p.Epochs || Environment.GetEnvironmentVariable("TOY_VERBOSE") == "1") Console.WriteLine($"    {set.Name}: {p}"); }));

        using var _ = no_grad();
        var flowNll = -flow.LogProb(test).to(ScalarType.Float64).mean().ToDouble();
        var exactNll = set.ExactLogProb is null ? (double?)null : -set.ExactLogProb(test).mean().ToDouble();
        var gaussian = new GaussianBaseline(train);
        var gaussianNll = -gaussian.LogProb(test).mean().ToDouble();
        var reference = test[..2000];
        var flowEnergy = EnergyDistance.Between(flow.Sample(2000, new Generator(13)).Input, reference);
        var gaussianEnergy = EnergyDistance.Between(gaussian.Sample(2000, new Generator(13)), reference);
        return new ToyResult(set.Name, flowNll, exactNll, gaussianNll, flowEnergy, gaussianEnergy, set.Target, report.History.Count, watch.Elapsed);
    }
}
