using System.Globalization;
using Invertible.Torch.Training;
using Microsoft.ML.Runtime;

namespace Invertible.ML.Hosting;

/// <summary>
/// What a Fit needs from ML.NET's environment: a seed (from the options, else from <c>MLContext(seed)</c>), and progress
/// reported to <c>mlContext.Log</c> and to the caller's callback.
/// </summary>
internal sealed class TrainingHost
{
    private readonly IHost host;

    public TrainingHost(IHostEnvironment environment, string name)
    {
        ArgumentNullException.ThrowIfNull(environment);
        host = environment.Register(name);
    }

    /// <summary>The seed to use: <paramref name="requested"/> if set, otherwise the next draw of the environment's
    /// random source (deterministic when the MLContext was created with a seed).</summary>
    public int Seed(int? requested) => requested ?? host.Rand.Next();

    /// <summary>Writes a line to <c>mlContext.Log</c>.</summary>
    public void Info(string message)
    {
        using var channel = host.Start("Fit");
        channel.Info(MessageSensitivity.None, message);
    }

    /// <summary>Reports every epoch to the log (with <paramref name="what"/> in front) and to <paramref name="callback"/>.</summary>
    public IProgress<TrainingProgress> Progress(string what, Action<TrainingProgress>? callback) => new Reporter(this, what, callback);

    private sealed class Reporter(TrainingHost host, string what, Action<TrainingProgress>? callback) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            host.Info(string.Create(CultureInfo.InvariantCulture, $"{what}: {value}"));
            callback?.Invoke(value);
        }
    }
}
