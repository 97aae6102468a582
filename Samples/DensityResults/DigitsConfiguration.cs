using Invertible.Torch.Flows;
using Invertible.Torch.Training;

namespace Invertible.Samples.DensityResults;

/// <summary>The flow and training budget for the digits.</summary>
internal static class DigitsConfiguration
{
    public static InvertibleResNetFlowOptions Architecture => new()
    {
        Blocks = 8,
        HiddenFeatures = 256,
        Depth = 3,
        Coefficient = 0.97,
    };

    public static TrainerOptions Training => new()
    {
        Epochs = 100,
        BatchSize = 128,
        LearningRate = 2e-3,
        Schedule = LearningRateSchedule.Cosine,
        ValidationFraction = 0.15,
        EarlyStoppingPatience = 20,
        Seed = 2,
    };
}
