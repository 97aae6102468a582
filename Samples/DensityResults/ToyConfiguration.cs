using Invertible.Torch.Flows;
using Invertible.Torch.Training;

namespace Invertible.Samples.DensityResults;

/// <summary>The flow and training budget used for every 2-D toy density.</summary>
internal static class ToyConfiguration
{
    public static InvertibleResNetFlowOptions Architecture => new()
    {
        Blocks = int.Parse(Environment.GetEnvironmentVariable("TOY_BLOCKS") ?? "10"),
        HiddenFeatures = int.Parse(Environment.GetEnvironmentVariable("TOY_HIDDEN") ?? "128"),
        Depth = 3,
        Coefficient = 0.97,
    };

    public static TrainerOptions Training => new()
    {
        Epochs = int.Parse(Environment.GetEnvironmentVariable("TOY_EPOCHS") ?? "40"),
        BatchSize = 500,
        LearningRate = double.Parse(Environment.GetEnvironmentVariable("TOY_LR") ?? "2e-3", System.Globalization.CultureInfo.InvariantCulture),
        Schedule = LearningRateSchedule.Cosine,
        ValidationFraction = 0.1,
        EarlyStoppingPatience = 0,
        Seed = 1,
    };
}
