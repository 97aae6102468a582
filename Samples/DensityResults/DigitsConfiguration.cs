using Invertible.Torch.Flows;
using Invertible.Torch.Training;

namespace Invertible.Samples.DensityResults;

/// <summary>The flow and training budget for the digits.</summary>
internal static class DigitsConfiguration
{
    public static InvertibleResNetFlowOptions Architecture => new()
    {
        Blocks = int.Parse(Environment.GetEnvironmentVariable("DIGITS_BLOCKS") ?? "8"),
        HiddenFeatures = int.Parse(Environment.GetEnvironmentVariable("DIGITS_HIDDEN") ?? "256"),
        Depth = 3,
        Coefficient = 0.97,
    };

    public static TrainerOptions Training => new()
    {
        Epochs = int.Parse(Environment.GetEnvironmentVariable("DIGITS_EPOCHS") ?? "100"),
        BatchSize = 128,
        LearningRate = double.Parse(Environment.GetEnvironmentVariable("DIGITS_LR") ?? "2e-3", System.Globalization.CultureInfo.InvariantCulture),
        Schedule = LearningRateSchedule.Cosine,
        ValidationFraction = 0.15,
        EarlyStoppingPatience = 20,
        Seed = 2,
    };
}
