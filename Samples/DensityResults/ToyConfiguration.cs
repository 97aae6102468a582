using Invertible.Torch.Flows;
using Invertible.Torch.Training;

namespace Invertible.Samples.DensityResults;

/// <summary>
/// The flow and training budget for the 2-D toy densities: 10 blocks of 2 → 64 → 64 → 2 (LipSwish, c = 0.97) with
/// ActNorm, exact log-determinants, Adam at 5e-3 with cosine decay, batches of 500.
/// </summary>
internal static class ToyConfiguration
{
    public static InvertibleResNetFlowOptions Architecture => new()
    {
        Blocks = 10,
        HiddenFeatures = 64,
        Depth = 3,
        Coefficient = 0.97,
    };

    public static TrainerOptions Training(int epochs) => new()
    {
        Epochs = epochs,
        BatchSize = 500,
        LearningRate = 5e-3,
        Schedule = LearningRateSchedule.Cosine,
        ValidationFraction = 0.1,
        EarlyStoppingPatience = 0,
        Seed = 1,
    };
}
