using System.Diagnostics;
using System.Globalization;

namespace Invertible.Benchmarks.SideBySide;

/// <summary>One TSV line of the PyTorch peer: benchmark, configuration, value, unit.</summary>
internal sealed record PeerLine(string Benchmark, string Config, double Value, string Unit);

/// <summary>Runs <c>torch_peer.py</c> in its own process and reads its TSV.</summary>
internal static class PeerResults
{
    public static (IReadOnlyList<PeerLine> Lines, IReadOnlyList<string> Comments) Run(string script, string python, string sections)
    {
        if (!File.Exists(script))
            throw new FileNotFoundException($"The PyTorch peer script was not found at '{script}' (pass --peer <path>).", script);
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(sections);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start '{python}'.");
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<PeerLine>();
        var comments = new List<string>();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (line.StartsWith('#'))
            {
                comments.Add(line);
                continue;
            }
            var fields = line.Split('\t');
            if (fields.Length >= 4 && double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                lines.Add(new PeerLine(fields[0], fields[1], value, fields[3]));
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"The peer exited with code {process.ExitCode}. It needs Debian's python3-torch and libopenblas0-pthread " +
                $"(apt-get install python3-torch libopenblas0-pthread). Its error output:\n{stderr.Result}");
        return (lines, comments);
    }
}
