using Invertible.Samples.Shared;
using Invertible.Torch.Data;
using Invertible.Torch.Flows;
using Invertible.Torch.Onnx;
using Invertible.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Samples.Quickstart;

/// <summary>A residual flow on two-moons: likelihood vs a Gaussian, samples, and the log-likelihood from ONNX alone.</summary>
internal static class DensitySection
{
    public static void Run()
    {
        Report.Heading("4. Density model: an invertible-ResNet flow on two-moons (10 epochs, exact log-determinants)");
        manual_seed(7);
        var train = ToyDensities.TwoMoons(8000, new Generator(1));
        var test = ToyDensities.TwoMoons(2000, new Generator(2));
        var flow = new InvertibleResNetFlow(2, new InvertibleResNetFlowOptions { Blocks = 6, HiddenFeatures = 64 });
        var report = Trainer.Fit(flow, [train], (batch, _) => flow.LogProb(batch[0]).mean().neg(),
            new TrainerOptions { Epochs = 10, BatchSize = 128, LearningRate = 5e-3, Schedule = LearningRateSchedule.Cosine, ValidationFraction = 0.1, Seed = 1 },
            new Progress<TrainingProgress>(p => Console.WriteLine($"  {p}")));
        using var _ = no_grad();
        var flowNll = -flow.LogProb(test).mean().ToDouble();
        var gaussianNll = -new GaussianBaseline(train).LogProb(test).mean().ToDouble();
        var samples = flow.Sample(2000, new Generator(3)).Input;
        Report.Table(["model", "test NLL (nats)", "energy distance of 2000 samples"],
        [
            ["flow", Report.Fixed(flowNll, 3), Report.Fixed(EnergyDistance.Between(samples, test), 4)],
            ["full-covariance Gaussian", Report.Fixed(gaussianNll, 3), Report.Fixed(EnergyDistance.Between(new GaussianBaseline(train).Sample(2000, new Generator(3)), test), 4)],
        ]);

        var exported = FlowExporter.ExportForward(flow);
        var onnx = OnnxCheck.Run(exported, "x", test, "log_likelihood");
        var difference = tensor(onnx).sub(flow.LogProb(test)).abs().max().ToDouble();
        Console.WriteLine($"  ONNX Runtime log-likelihood (exported graph, no libtorch) vs TorchSharp, 2000 rows: max |diff| {Report.Sci(difference)}");
        Console.WriteLine($"  trained in {report.Elapsed.TotalSeconds:F1} s");
    }
}
