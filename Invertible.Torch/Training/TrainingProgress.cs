using System.Globalization;

namespace Invertible.Torch.Training;

/// <summary>The state of training after one epoch, reported through <see cref="IProgress{T}"/>.</summary>
/// <param name="Epoch">1-based epoch just finished.</param>
/// <param name="Epochs">Planned epochs.</param>
/// <param name="TrainLoss">Mean training loss of the epoch (training mode).</param>
/// <param name="ValidationLoss">Mean validation loss (evaluation mode), or null without validation.</param>
/// <param name="LearningRate">Learning rate used in the epoch.</param>
/// <param name="Metrics">Per-epoch averages of what the loss recorded (e.g. "forward iterations").</param>
/// <param name="Elapsed">Time since training started.</param>
/// <param name="IsBest">Whether this epoch has the best validation loss so far.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, double TrainLoss, double? ValidationLoss, double LearningRate,
    IReadOnlyDictionary<string, double> Metrics, TimeSpan Elapsed, bool IsBest)
{
    /// <inheritdoc />
    public override string ToString()
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"epoch {Epoch}/{Epochs}: train {TrainLoss:F4}{(ValidationLoss is { } v ? $", validation {v:F4}{(IsBest ? " *" : "")}" : "")}, lr {LearningRate:G3}, {Elapsed.TotalSeconds:F1} s");
        return Metrics.Count == 0 ? text : text + ", " + string.Join(", ", Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value:G4}")));
    }
}
