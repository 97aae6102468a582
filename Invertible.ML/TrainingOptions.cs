using Invertible.Torch.Core;
using Invertible.ML.Hosting;
using Invertible.Torch.Training;

namespace Invertible.ML;

/// <summary>
/// The training fields every Invertible.ML estimator shares. Each options class sets its own defaults (listed in its
/// <c>Defaults</c> class); all of them stop early on a seeded held-out share of the rows and keep the best epoch.
/// </summary>
public abstract class TrainingOptions
{
    private protected TrainingOptions(int epochs, int batchSize, double learningRate, double weightDecay, double validationFraction, int patience)
        => (Epochs, BatchSize, LearningRate, WeightDecay, ValidationFraction, EarlyStoppingPatience) = (epochs, batchSize, learningRate, weightDecay, validationFraction, patience);

    /// <summary>Maximum passes over the training rows (early stopping usually ends sooner). Default: the options class's <c>Defaults.Epochs</c>.</summary>
    public int Epochs;

    /// <summary>Rows per optimisation step. Default: the options class's <c>Defaults.BatchSize</c>.</summary>
    public int BatchSize;

    /// <summary>Adam's learning rate (decayed by a cosine schedule). Default: the options class's <c>Defaults.LearningRate</c>.</summary>
    public double LearningRate;

    /// <summary>Adam's (L2) weight decay. Default: the options class's <c>Defaults.WeightDecay</c>.</summary>
    public double WeightDecay;

    /// <summary>Fraction of rows held out (by a seeded hash of the row index) for early stopping. Default: the options class's <c>Defaults.ValidationFraction</c>.</summary>
    public double ValidationFraction;

    /// <summary>Stop after this many epochs without a better validation loss (0: never stop early). Default: the options class's <c>Defaults.EarlyStoppingPatience</c>.</summary>
    public int EarlyStoppingPatience;

    /// <summary>
    /// Standard deviation of Gaussian noise added to every training batch, relative to the features' root-mean-square
    /// standard deviation: the model then fits the data smoothed at that scale, which regularises small data as a
    /// kernel bandwidth does. 0 disables it. Default null: the estimator chooses (see its options class).
    /// </summary>
    public double? TrainingNoise;

    /// <summary>
    /// Wall-clock budget of <c>Fit</c> up to the end of its training epochs (reading the rows and the closed-form start
    /// count; scoring the held-out rows after the last epoch does not): after each epoch the fit plans the epochs that fit
    /// in what is left, at most <see cref="Epochs"/>, and the learning-rate schedule spans them; the training report
    /// says when the budget cut the fit short. At least one epoch runs. Default null: no budget.
    /// </summary>
    public TimeSpan? TimeBudget;

    /// <summary>Seed of the initialisation, split and shuffling. Default (null): drawn from the <c>MLContext</c>'s seed.</summary>
    public int? Seed;

    /// <summary>Called after every epoch (also written to <c>mlContext.Log</c>). Default null.</summary>
    public Action<TrainingProgress>? ProgressCallback;

    /// <summary>Cancels training; <c>Fit</c> then throws <see cref="OperationCanceledException"/>. Default none.</summary>
    public CancellationToken CancellationToken;

    /// <summary>The libtorch device: "cpu", or "cuda"/"cuda:N" where the process's libtorch has CUDA. Default "cpu".</summary>
    public string Device = "cpu";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid training option.</summary>
    private protected void ValidateTraining()
    {
        OptionCheck.AtLeast(Epochs, 1);
        OptionCheck.AtLeast(BatchSize, 1);
        OptionCheck.Positive(LearningRate);
        OptionCheck.NonNegative(WeightDecay);
        OptionCheck.Within(ValidationFraction, 0, true, 1, false);
        OptionCheck.AtLeast(EarlyStoppingPatience, 0);
        OptionCheck.NonNegative(TrainingNoise);
        if (TimeBudget is { } budget && budget <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(TimeBudget), budget, "Must be positive.");
        Check.DeviceName(Device, nameof(Device));
    }

    /// <summary>The training loop's options for these fields.</summary>
    /// <param name="seed">The fit's seed.</param>
    /// <param name="learningRate">Overrides <see cref="LearningRate"/>.</param>
    /// <param name="validateBeforeTraining">Validate the start as epoch 0.</param>
    /// <param name="schedule">Overrides the batch and the epochs.</param>
    /// <param name="spent">Time the fit spent before its epochs, taken from <see cref="TimeBudget"/>.</param>
    internal TrainerOptions ToTrainerOptions(int seed, double? learningRate = null, bool validateBeforeTraining = true, (int Batch, int Epochs)? schedule = null, TimeSpan spent = default) => new()
    {
        Epochs = schedule?.Epochs ?? Epochs, BatchSize = schedule?.Batch ?? BatchSize, LearningRate = learningRate ?? LearningRate, WeightDecay = WeightDecay,
        Schedule = LearningRateSchedule.Cosine, EarlyStoppingPatience = EarlyStoppingPatience, ValidateBeforeTraining = validateBeforeTraining,
        ValidationFraction = 0, Seed = (ulong)seed, TimeBudget = TimeBudget is { } budget ? TimeSpan.FromTicks(Math.Max(1, (budget - spent).Ticks)) : null,
    };
}
