using System.Diagnostics;
using System.Globalization;
using Invertible.ML.Flows;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Invertible.Benchmarks;

/// <summary>
/// Peak memory of fitting the flow transform on rows read from a text file (d = 8, one epoch), 100 000 vs 1 000 000
/// rows, each in a fresh process: Fit streams minibatches through a bounded shuffle buffer, so the peak should not grow
/// with the number of rows. Reported: the process's peak RSS (VmHWM) at the end of Fit.
/// </summary>
internal static class StreamingFitMemory
{
    public const string ChildCommand = "streaming-child";
    private const int Width = 8;

    public static void Print()
    {
        Console.WriteLine("| rows | file size (MB) | peak RSS (MB) | Fit time (s) |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var rows in new[] { 100_000, 1_000_000 })
        {
            var path = Path.Combine(Path.GetTempPath(), $"invertible-streaming-{rows}.csv");
            if (!File.Exists(path))
                Write(path, rows);
            var self = Environment.ProcessPath!;
            var arguments = $"{ChildCommand} {path}";
            if (self.EndsWith("dotnet", StringComparison.Ordinal))
                arguments = $"\"{typeof(StreamingFitMemory).Assembly.Location}\" " + arguments;
            using var process = Process.Start(new ProcessStartInfo(self, arguments) { RedirectStandardOutput = true })!;
            var text = process.StandardOutput.ReadToEnd().Trim().Split(' ');
            process.WaitForExit();
            Console.WriteLine($"| {rows:N0} | {new FileInfo(path).Length / 1e6:F1} | {text[0]} | {text[1]} |");
        }
    }

    private static void Write(string path, int rows)
    {
        var random = new Random(1);
        using var writer = new StreamWriter(path);
        for (var i = 0; i < rows; i++)
        {
            var x = random.NextDouble() * 2 - 1;
            writer.WriteLine(string.Join(",", Enumerable.Range(0, Width).Select(j => (Math.Sin(x * (j + 1)) + 0.1 * random.NextDouble()).ToString("F5", CultureInfo.InvariantCulture))));
        }
    }

    public static void RunChild(string[] args)
    {
        var context = new MLContext(1);
        var data = context.Data.LoadFromTextFile(args[0], [new TextLoader.Column("Features", DataKind.Single, 0, Width - 1)], separatorChar: ',');
        var watch = Stopwatch.StartNew();
        using var transformer = context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 1, Blocks = 2, HiddenFeatures = 32, BatchSize = 1024, ValidationFraction = 0.01 }).Fit(data);
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var peak = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{peak:F0} {watch.Elapsed.TotalSeconds:F1}"));
    }
}
