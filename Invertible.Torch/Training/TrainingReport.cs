namespace Invertible.Torch.Training;

/// <summary>What a training run did.</summary>
/// <param name="History">One entry per epoch run.</param>
/// <param name="BestEpoch">Epoch with the best validation loss (the last epoch without validation).</param>
/// <param name="BestValidationLoss">Its validation loss, or null without validation.</param>
/// <param name="StoppedEarly">Whether early stopping ended the run.</param>
/// <param name="Elapsed">Wall-clock time.</param>
public sealed record TrainingReport(IReadOnlyList<TrainingProgress> History, int BestEpoch, double? BestValidationLoss, bool StoppedEarly, TimeSpan Elapsed)
{
    /// <summary>Whether <see cref="TrainerOptions.TimeBudget"/> cut the run short of its epochs.</summary>
    public bool StoppedByTimeBudget { get; init; }

    /// <summary>The last epoch's progress.</summary>
    public TrainingProgress Last => History[^1];
}
