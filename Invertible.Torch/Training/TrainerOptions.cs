using Invertible.Torch.Core;
namespace Invertible.Torch.Training;

/// <summary>Learning-rate schedule over epochs.</summary>
public enum LearningRateSchedule
{
    /// <summary>The same rate every epoch.</summary>
    Constant,
    /// <summary>Cosine decay from the initial rate to 1% of it over the epochs.</summary>
    Cosine,
    /// <summary>Multiply by <see cref="TrainerOptions.StepFactor"/> every <see cref="TrainerOptions.StepEpochs"/> epochs.</summary>
    Step,
}

/// <summary>Options of <see cref="Trainer"/>. Every property has a documented default.</summary>
public sealed class TrainerOptions
{
    /// <summary>Default values.</summary>
    public static class Defaults
    {
        /// <summary>Default <see cref="TrainerOptions.Epochs"/>.</summary>
        public const int Epochs = 50;
        /// <summary>Default <see cref="TrainerOptions.BatchSize"/>.</summary>
        public const int BatchSize = 256;
        /// <summary>Default <see cref="TrainerOptions.LearningRate"/>.</summary>
        public const double LearningRate = 1e-3;
        /// <summary>Default <see cref="TrainerOptions.ValidationFraction"/>.</summary>
        public const double ValidationFraction = 0.1;
        /// <summary>Default <see cref="TrainerOptions.EarlyStoppingPatience"/>.</summary>
        public const int EarlyStoppingPatience = 10;
    }

    /// <summary>Passes over the training rows. Default 50.</summary>
    public int Epochs { get; init; } = Defaults.Epochs;

    /// <summary>Rows per optimisation step. Default 256.</summary>
    public int BatchSize { get; init; } = Defaults.BatchSize;

    /// <summary>Adam's initial learning rate. Default 1e-3.</summary>
    public double LearningRate { get; init; } = Defaults.LearningRate;

    /// <summary>Adam's (L2) weight decay. Default 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Clip the global gradient norm to this value; null disables clipping. Default null.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Learning-rate schedule. Default <see cref="LearningRateSchedule.Constant"/>.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>Step schedule: epochs between decays. Default 10.</summary>
    public int StepEpochs { get; init; } = 10;

    /// <summary>Step schedule: decay factor. Default 0.5.</summary>
    public double StepFactor { get; init; } = 0.5;

    /// <summary>Fraction of rows held out for validation (0 disables validation and early stopping). Default 0.1.</summary>
    public double ValidationFraction { get; init; } = Defaults.ValidationFraction;

    /// <summary>Stop after this many epochs without a better validation loss (0 disables). Default 10.</summary>
    public int EarlyStoppingPatience { get; init; } = Defaults.EarlyStoppingPatience;

    /// <summary>
    /// Also validate the model before the first epoch: it is the best (epoch 0) unless an epoch beats it, so a model that
    /// starts from a good baseline never ends worse than that baseline on validation. Default false.
    /// </summary>
    public bool ValidateBeforeTraining { get; init; }

    /// <summary>
    /// Wall-clock budget of the run (validation included). After each epoch the run plans how many epochs fit in what is
    /// left, judged by its slowest epoch so far, at most <see cref="Epochs"/>; the learning-rate schedule then spans the
    /// planned epochs, so a run cut short by its budget still ends at a low rate. At least one epoch runs. Default null:
    /// no budget.
    /// </summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>At the end, load the weights of the best validation epoch. Default true.</summary>
    public bool RestoreBestWeights { get; init; } = true;

    /// <summary>Seed of the split and the shuffling. Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Between steps, return the C heap's free memory to the system when the process's resident set has grown past this
    /// multiple of its reference (<see cref="NativeHeapTrimmer"/>); <see cref="double.PositiveInfinity"/> disables it.
    /// Default <see cref="NativeHeapTrimmer.DefaultGrowthLimit"/> (1.15).
    /// </summary>
    public double NativeHeapGrowthLimit { get; init; } = NativeHeapTrimmer.DefaultGrowthLimit;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.AtLeast(Epochs, 1);
        OptionCheck.AtLeast(BatchSize, 1);
        OptionCheck.Positive(LearningRate);
        OptionCheck.NonNegative(WeightDecay);
        OptionCheck.Positive(GradientClipNorm);
        OptionCheck.Defined(Schedule);
        OptionCheck.AtLeast(StepEpochs, 1);
        OptionCheck.Within(StepFactor, 0, false, 1, true);
        OptionCheck.Within(ValidationFraction, 0, true, 1, false);
        OptionCheck.AtLeast(EarlyStoppingPatience, 0);
        OptionCheck.Within(NativeHeapGrowthLimit, 1, false, double.PositiveInfinity, true);
        if (TimeBudget is { } budget && budget <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(TimeBudget), budget, "Must be positive.");
    }

    internal double LearningRateAt(int epoch) => LearningRateAt(epoch, Epochs);

    // The rate of 0-based epoch of a run of `epochs` epochs.
    internal double LearningRateAt(int epoch, int epochs) => Schedule switch
    {
        LearningRateSchedule.Cosine => LearningRate * (0.01 + 0.99 * 0.5 * (1 + Math.Cos(Math.PI * epoch / epochs))),
        LearningRateSchedule.Step => LearningRate * Math.Pow(StepFactor, epoch / StepEpochs),
        _ => LearningRate,
    };
}
