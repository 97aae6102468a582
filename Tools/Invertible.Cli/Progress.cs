using System.Globalization;
using Invertible.Torch.Training;
using Spectre.Console;

namespace Invertible.Cli;

/// <summary>Training progress: a Spectre.Console bar on a terminal, a line per tenth of the epochs otherwise.</summary>
internal static class Progress
{
    public static T Fit<T>(int epochs, Action<Action<TrainingProgress>> attach, Func<T> fit)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var every = Math.Max(1, epochs / 10);
            attach(p =>
            {
                if (p.Epoch % every == 0)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  epoch {p.Epoch}/{epochs}: validation loss {p.ValidationLoss:F4}, {p.Elapsed.TotalSeconds:F1} s"));
            });
            return fit();
        }
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: epochs);
                attach(p =>
                {
                    task.Value = p.Epoch;
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"training: validation loss {p.ValidationLoss:F4}");
                });
                result = fit();
                task.Value = epochs;
            });
        return result;
    }
}
