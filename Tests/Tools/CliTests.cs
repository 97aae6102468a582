using System.Diagnostics;
using System.Globalization;
using Invertible.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Invertible.Tests.Tools;

/// <summary>The command-line tool as a user runs it: real processes on real files in a scratch folder.</summary>
[TestClass]
public sealed class CliTests
{
    private static string folder = "";

    [ClassInitialize]
    public static void CreateFiles(TestContext _)
    {
        folder = Directory.CreateTempSubdirectory("cli-test-").FullName;
        var random = new Random(3);
        var lines = new List<string> { "a,b,label" };
        for (var i = 0; i < 300; i++)
        {
            var (x, y) = (Gaussian(random), Gaussian(random));
            lines.Add(FormattableString.Invariant($"{x:F4},{2 * y + x:F4},{(x * x + y * y < 1 ? "in" : "out")}"));
        }
        File.WriteAllLines(Path.Combine(folder, "points.csv"), lines);
    }

    [ClassCleanup]
    public static void DeleteFiles() => Directory.Delete(folder, recursive: true);

    [TestMethod]
    public void Flow_TrainEvaluateScoreInverseSampleExport_OnCsvFiles()
    {
        Assert.AreEqual(0, Run(out var trained, out _, "train", "--data", "points.csv", "--epochs", "3", "--model", "flow.zip"));
        StringAssert.Contains(trained, "300 rows, 2 features (a, b)");
        Assert.AreEqual(0, Run(out var evaluated, out _, "evaluate", "--data", "points.csv", "--model", "flow.zip"));
        StringAssert.Contains(evaluated, "mean log-likelihood");

        Assert.AreEqual(0, Run(out _, out _, "score", "--data", "points.csv", "--model", "flow.zip", "--output", "scores.csv"));
        var scores = File.ReadAllLines(Path.Combine(folder, "scores.csv"));
        Assert.AreEqual("log_likelihood,latent_0,latent_1", scores[0]);
        Assert.AreEqual(301, scores.Length, "a header and one line per row");
        File.WriteAllLines(Path.Combine(folder, "latents.csv"), ["z0,z1", .. scores[1..].Select(l => string.Join(",", l.Split(',')[1..]))]);

        Assert.AreEqual(0, Run(out _, out _, "inverse", "--data", "latents.csv", "--model", "flow.zip", "--output", "back.csv"));
        var back = File.ReadAllLines(Path.Combine(folder, "back.csv"));
        var original = File.ReadAllLines(Path.Combine(folder, "points.csv"));
        Assert.AreEqual("x_0,x_1,iterations,converged", back[0]);
        for (var i = 1; i < original.Length; i++)
        {
            var (x, y) = (Numbers(original[i], 2), back[i].Split(','));
            for (var j = 0; j < 2; j++)
                Assert.AreEqual(x[j], double.Parse(y[j], CultureInfo.InvariantCulture), 1e-4, $"line {i + 1}, x_{j}: the inverse of the score's latent is the row");
            Assert.AreEqual("True", y[3], $"line {i + 1} converged");
        }

        Assert.AreEqual(0, Run(out _, out _, "sample", "--model", "flow.zip", "--count", "50", "--seed", "4", "--output", "generated.csv"));
        var generated = File.ReadAllLines(Path.Combine(folder, "generated.csv"));
        Assert.AreEqual(51, generated.Length);
        Assert.IsTrue(generated[1..].All(l => Numbers(l, 2).All(double.IsFinite)), "finite generated rows");

        Assert.AreEqual(0, Run(out _, out _, "export-onnx", "--model", "flow.zip", "--output", "flow.onnx"));
        using var session = new InferenceSession(Path.Combine(folder, "flow.onnx"));
        var firstRow = Numbers(original[1], 2).Select(v => (float)v).ToArray();
        var input = session.InputMetadata.Keys.Single();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(firstRow, [1, 2]))]);
        var logLikelihood = results.First(r => r.Name.Contains("LogLikelihood", StringComparison.Ordinal)).AsEnumerable<float>().Single();
        Assert.AreEqual(double.Parse(scores[1].Split(',')[0], CultureInfo.InvariantCulture), logLikelihood, 1e-4, "ONNX log-likelihood of the first row");
    }

    [TestMethod]
    public void Classifier_TrainsScoresAndEvaluates_WithTheFilesLabels()
    {
        Assert.AreEqual(0, Run(out _, out _, "train", "--data", "points.csv", "--kind", "classifier", "--model", "classifier.zip"));
        Assert.AreEqual(0, Run(out var evaluated, out _, "evaluate", "--data", "points.csv", "--model", "classifier.zip"));
        var accuracy = double.Parse(evaluated.Split("accuracy ")[1].Split(';')[0], CultureInfo.InvariantCulture);
        Assert.IsTrue(accuracy > 0.6, evaluated);
        Assert.AreEqual(0, Run(out _, out _, "score", "--data", "points.csv", "--model", "classifier.zip", "--output", "classes.csv"));
        var lines = File.ReadAllLines(Path.Combine(folder, "classes.csv"));
        CollectionAssert.AreEquivalent(new[] { "predicted", "p_in", "p_out" }, lines[0].Split(','));
        Assert.IsTrue(lines[1..].All(l => l.Split(',')[0] is "in" or "out"), "predicted labels are the file's own");
        Assert.IsTrue(lines[1..].All(l => Math.Abs(Numbers(string.Join(",", l.Split(',')[1..]), 2).Sum() - 1) < 1e-5), "probabilities sum to one");
    }

    /// <summary>
    /// A model remembers the label and feature columns it was trained on: evaluate and score need neither, even when the
    /// label column is not called "label" and the file holds an extra column; train ends with the fit time and the
    /// out-of-fold accuracy.
    /// </summary>
    [TestMethod]
    public void TrainedColumns_AreRemembered_AndTrainReportsTimeAndOutOfFoldAccuracy()
    {
        var lines = File.ReadAllLines(Path.Combine(folder, "points.csv"));
        File.WriteAllLines(Path.Combine(folder, "named.csv"), ["kind,a,b", .. lines[1..].Select(l => string.Join(",", l.Split(',')[2], l.Split(',')[0], l.Split(',')[1]))]);
        File.WriteAllLines(Path.Combine(folder, "named-extra.csv"), ["id,b,kind,a", .. lines[1..].Select((l, i) => string.Join(",", i, l.Split(',')[1], l.Split(',')[2], l.Split(',')[0]))]);
        Assert.AreEqual(0, Run(out var trained, out _, "train", "--data", "named.csv", "--kind", "classifier", "--label", "kind", "--model", "named.zip"));
        StringAssert.Matches(trained, new System.Text.RegularExpressions.Regex(@"Trained in [0-9.]+ s; out-of-fold accuracy 0\.[0-9]{4}, log-loss [0-9.]+ over 300 rows"));
        Assert.AreEqual(0, Run(out var evaluated, out var error, "evaluate", "--data", "named-extra.csv", "--model", "named.zip"), error);
        var accuracy = double.Parse(evaluated.Split("accuracy ")[1].Split(';')[0], CultureInfo.InvariantCulture);
        Assert.IsTrue(accuracy > 0.6, evaluated);
        Assert.AreEqual(0, Run(out _, out error, "score", "--data", "named-extra.csv", "--model", "named.zip", "--output", "named-scores.csv"), error);
        Assert.AreEqual(301, File.ReadAllLines(Path.Combine(folder, "named-scores.csv")).Length, "a header and one line per row");
    }

    [TestMethod]
    [DataRow("a,b,label\n1,2,x\n3,4\n", "ragged.csv, line 3: 2 cells, but the header has 3 columns")]
    [DataRow("a,b,label\n1,2,x\n1,zz,x\n", "nonnumeric.csv, line 3, column 'b': 'zz' is not a number")]
    [DataRow("", "empty.csv: the file is empty")]
    [DataRow("a,b,label\n", "header.csv: the file has a header but no data rows")]
    [DataRow("a,b,kind\n1,2,x\n", "missing.csv: no column 'label'; the columns are a, b, kind")]
    public void BadCsv_GivesItsLineAndAnExitCode_AndLeavesNoFile(string content, string message)
    {
        var name = message.Split(new[] { ',', ':' })[0];
        File.WriteAllText(Path.Combine(folder, name), content);
        var model = $"{Path.GetFileNameWithoutExtension(name)}.zip";
        Assert.AreEqual(1, Run(out _, out var error, "train", "--data", name, "--kind", "classifier", "--model", model));
        StringAssert.Contains(error, message);
        Assert.IsFalse(File.Exists(Path.Combine(folder, model)), "no model file written");
        Assert.IsFalse(Directory.EnumerateFiles(folder, "*.tmp*").Any(), "no temporary file left");
    }

    [TestMethod]
    public void EveryCommand_HasHelpWithAnExample()
    {
        foreach (var command in new[] { "train", "evaluate", "score", "inverse", "sample", "export-onnx" })
        {
            Assert.AreEqual(0, Run(out var help, out _, command, "--help"));
            StringAssert.Contains(help, $"Example: invertible {command}", command);
        }
        Assert.AreNotEqual(0, Run(out _, out var error, "score", "--data", "points.csv"), "missing required options");
        StringAssert.Contains(error, "--model");
    }

    private static int Run(out string output, out string error, params string[] arguments)
    {
        int code;
        (code, output, error) = Processes.Run("dotnet", [Processes.Built("Tools/Invertible.Cli", "invertible.dll"), .. arguments], folder);
        return code;
    }

    private static double[] Numbers(string line, int count) => line.Split(',').Take(count).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
