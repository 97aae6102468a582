using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Invertible.Tests.Support;
using SkiaSharp;

namespace Invertible.Tests.Samples;

/// <summary>The README's main command, run as a user runs it (a separate process), in its reduced-size mode.</summary>
[TestClass]
public sealed partial class QuickstartTests
{
    [TestMethod]
    public void ReducedQuickstart_PrintsSoundNumbers_AndWritesNonBlankPlots()
    {
        var folder = Directory.CreateTempSubdirectory("quickstart-test-").FullName;
        try
        {
            var output = Run("--quick", "--plots", folder);

            var nll = Match(output, NllLine());
            var (flow, exact, gaussian) = (Number(nll, 1), Number(nll, 2), Number(nll, 3));
            Check.AtMost(flow, gaussian + 1e-3, "the flow's test NLL is never worse than the Gaussian it starts from");
            Check.Less(exact, gaussian, "the generating mixture's exact NLL is below the Gaussian's");
            Check.AtMost(Number(Match(output, InverseLine()), 1), 1e-4, "max reconstruction error of Inverse");
            Assert.IsTrue(Match(output, InverseLine()).Groups[2].Value == "True", "every inverse row converged");
            var saved = Match(output, SaveLine());
            Check.AtMost(Number(saved, 1), 1e-4, "plain Load (ONNX Runtime) against the transformer");
            Assert.AreEqual("True", saved.Groups[2].Value, "LoadInvertible gives identical outputs");
            var onnx = Match(output, OnnxLine());
            Check.AtMost(Number(onnx, 1), 1e-4, "exported forward graph in ONNX Runtime");
            Check.AtMost(Number(onnx, 2), 1e-4, "exported inverse graph in ONNX Runtime");
            Check.Less(0.5, Number(Match(output, AccuracyLine()), 1) / 100, "digits accuracy after the reduced fit");
            var readable = Match(output, ReadableLine());
            Check.Less(0.3, Number(readable, 2) / 100, "share of the test digits the linear classifier reads with ≥ 90 % confidence");
            Check.Less(Number(readable, 1), Number(readable, 2), "samples of a flow trained 1 epoch read less surely than real digits");

            var listed = output[(output.IndexOf("Plots (", StringComparison.Ordinal))..].Split('\n').Select(l => l.Trim()).Where(l => l.EndsWith(".png", StringComparison.Ordinal)).ToList();
            CollectionAssert.AreEquivalent(new[] { "samples.png", "latent.png", "density.png", "digits.png" }, listed, "the last lines list the plots");
            foreach (var name in listed)
            {
                using var image = SKBitmap.Decode(Path.Combine(folder, name));
                Assert.IsNotNull(image, $"{name} decodes as an image");
                Assert.AreEqual((640, 480), (image.Width, image.Height), $"{name} size");
                // Axes, grid and labels alone are grey on white and cover a few percent: content is colour (points,
                // the heat map) or large dark areas (the digit tiles).
                var pixels = image.Pixels;
                var coloured = pixels.Count(p => Math.Max(p.Red, Math.Max(p.Green, p.Blue)) - Math.Min(p.Red, Math.Min(p.Green, p.Blue)) > 40) / (double)pixels.Length;
                var dark = pixels.Count(p => (p.Red + p.Green + p.Blue) / 3 < 60) / (double)pixels.Length;
                Assert.IsTrue(coloured > 0.01 || dark > 0.10, $"{name} shows content: {coloured:P1} coloured, {dark:P1} dark pixels");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string Run(params string[] arguments) => Processes.RunDotnet(Processes.Built("Samples/Quickstart", "Quickstart.dll"), arguments);

    private static System.Text.RegularExpressions.Match Match(string output, Regex pattern)
    {
        var match = pattern.Match(output);
        Assert.IsTrue(match.Success, $"output has a line matching {pattern}:\n{output}");
        return match;
    }

    private static double Number(System.Text.RegularExpressions.Match match, int group) => double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    private const string Value = @"(-?[0-9.]+(?:e[+-][0-9]+)?)";

    [GeneratedRegex($@"LbfgsMaximumEntropy reads {Value} % of them with ≥ 90 % confidence, {Value} % of the test digits")]
    private static partial Regex ReadableLine();

    [GeneratedRegex($@"test NLL {Value} nats per row; exact NLL of the generating mixture {Value}; full-covariance Gaussian {Value}")]
    private static partial Regex NllLine();

    [GeneratedRegex($@"max \|x − F⁻¹\(F\(x\)\)\| over [0-9,]+ rows = {Value}; every row converged: (True|False)")]
    private static partial Regex InverseLine();

    [GeneratedRegex($@"Save → Load \(ONNX Runtime scoring\): max \|diff\| {Value}; LoadInvertible \(full transformer\): identical = (True|False)")]
    private static partial Regex SaveLine();

    [GeneratedRegex($@"log-likelihood max \|diff\| {Value}, inverse max \|x − x̂\| {Value}")]
    private static partial Regex OnnxLine();

    [GeneratedRegex(@"accuracy ([0-9.]+) %")]
    private static partial Regex AccuracyLine();
}
