using System.Diagnostics;
using Invertible.Samples.Shared;
using Invertible.Torch.Flows;
using Invertible.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Samples.DensityResults;

/// <summary>What the digits experiment measured, in bits per dimension on the held-out 20%.</summary>
internal sealed record DigitsResult(double FlowBitsPerDim, double GaussianBitsPerDim, int Epochs, TimeSpan Elapsed);

/// <summary>
/// A flow on the 64-pixel digits with uniform dequantisation (x = pixel + u, u ~ U(0, 1)³⁶⁴, so a density on x bounds
/// the discrete likelihood: bits/dim = NLL(x) / (64 ln 2)), against a full-covariance Gaussian on the same split.
/// </summary>
internal static class DigitsExperiment
{
    public static DigitsResult Run(InvertibleResNetFlowOptions architecture, TrainerOptions training)
    {
        var watch = Stopwatch.StartNew();
        manual_seed(2);
        var (train, test) = Digits.Load().StratifiedSplit(0.2, seed: 0);
        var trainPixels = tensor(train.Pixels.SelectMany(r => r).ToArray()).view(-1, Digits.Features);
        var testPixels = tensor(test.Pixels.SelectMany(r => r).ToArray()).view(-1, Digits.Features);
        // One fixed dequantisation of the test set, and one of the training set for the Gaussian's fit.
        var testDequantized = testPixels.add(rand(testPixels.shape, generator: new Generator(21)));
        var trainDequantized = trainPixels.add(rand(trainPixels.shape, generator: new Generator(22)));
        var bitsPerNat = 1 / (Digits.Features * Math.Log(2));

        var gaussian = new GaussianBaseline(trainDequantized);
        var gaussianBits = -gaussian.LogProb(testDequantized).mean().ToDouble() * bitsPerNat;

        var flow = new InvertibleResNetFlow(Digits.Features, architecture);
        var noise = new Generator(23);
        var report = Trainer.Fit(flow, [trainPixels],
            (batch, _) => flow.LogProb(batch[0].add(rand(batch[0].shape, generator: noise))).mean().neg(), training,
            new Progress<TrainingProgress>(p => { if (p.Epoch % 10 == 0 || p.Epoch == p.Epochs) Console.WriteLine($"    digits: {p}"); }));
        double flowBits;
        using (no_grad())
            flowBits = -flow.LogProb(testDequantized).to(ScalarType.Float64).mean().ToDouble() * bitsPerNat;
        return new DigitsResult(flowBits, gaussianBits, report.History.Count, watch.Elapsed);
    }
}
