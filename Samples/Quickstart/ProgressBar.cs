using System.Globalization;
using Invertible.Torch.Training;
using Spectre.Console;

namespace Invertible.Samples.Quickstart;

/// <summary>A Spectre.Console progress bar fed by a fit's per-epoch callback.</summary>
internal static class ProgressBar
{
    /// <summary>Runs <paramref name="fit"/> with a bar over <paramref name="epochs"/>; <paramref name="attach"/> hands it the callback.</summary>
    public static T Fit<T>(string description, int epochs, Action<Action<TrainingProgress>> attach, Func<T> fit)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return Lines(description, epochs, attach, fit);
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: epochs);
                attach(p =>
                {
                    task.Value = p.Epoch;
                    task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{description}: validation loss {p.ValidationLoss:F3}"));
                });
                result = fit();
                task.Value = epochs;   // early stopping ends before the last epoch
            });
        return result;
    }

    /// <summary>Without a terminal (output redirected): a plain line at every tenth of the epochs.</summary>
    private static T Lines<T>(string description, int epochs, Action<Action<TrainingProgress>> attach, Func<T> fit)
    {
        Console.WriteLine($"  {description}");
        var every = Math.Max(1, epochs / 10);
        attach(p =>
        {
            if (p.Epoch % every == 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    epoch {p.Epoch}/{epochs}: validation loss {p.ValidationLoss:F3}, {p.Elapsed.TotalSeconds:F1} s"));
        });
        return fit();
    }
}
