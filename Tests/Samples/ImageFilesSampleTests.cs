using System.Globalization;
using System.Text.RegularExpressions;
using Invertible.Tests.Support;

namespace Invertible.Tests.Samples;

/// <summary><c>Samples/ImageFiles</c> run as a user runs it (a separate process), in its reduced-size mode: generated
/// PNG files through ImageAnalytics into the i-ResNet image classifier, saved, loaded back, one image predicted.</summary>
[TestClass]
public sealed partial class ImageFilesSampleTests
{
    [TestMethod]
    public void QuickRun_ClassifiesHeldOutImages_AndTheReloadedModelPredictsTheSame()
    {
        var folder = Directory.CreateTempSubdirectory("image-files-sample-").FullName;
        try
        {
            var output = Processes.RunDotnet(Processes.Built("Samples/ImageFiles", "ImageFiles.dll"), "--quick", "--output", folder);

            var images = Match(output, ImagesLine());
            Assert.AreEqual("240", images.Groups[1].Value, "generated images");
            var accuracy = Match(output, AccuracyLine());
            var (correct, heldOut) = (int.Parse(accuracy.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(accuracy.Groups[3].Value, CultureInfo.InvariantCulture));
            Check.Close(double.Parse(accuracy.Groups[1].Value, CultureInfo.InvariantCulture), (double)correct / heldOut, 5e-4, "printed accuracy against the count");
            Check.Less(40, heldOut, "held-out images (a quarter of 240)");
            Check.Less(0.9, (double)correct / heldOut, "held-out accuracy");

            var saved = Match(output, SavedLine());
            Assert.IsTrue(File.Exists(saved.Groups[1].Value), $"{saved.Groups[1].Value} exists");
            Assert.AreEqual(heldOut.ToString(CultureInfo.InvariantCulture), saved.Groups[2].Value, "the reloaded model predicts every held-out image as the trained one does");
            var one = Match(output, PredictionLine());
            CollectionAssert.Contains(new[] { "horizontal", "vertical" }, one.Groups[3].Value, "predicted class");
            Check.Less(0.5, double.Parse(one.Groups[4].Value, CultureInfo.InvariantCulture), "probability of the predicted class of two");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static System.Text.RegularExpressions.Match Match(string output, Regex pattern)
    {
        var match = pattern.Match(output);
        Assert.IsTrue(match.Success, $"output has a line matching {pattern}:\n{output}");
        return match;
    }

    [GeneratedRegex(@"^([0-9]+) images in 2 classes \(horizontal, vertical\)", RegexOptions.Multiline)]
    private static partial Regex ImagesLine();

    [GeneratedRegex(@"held-out accuracy ([0-9.]+) \(([0-9]+) of ([0-9]+) images")]
    private static partial Regex AccuracyLine();

    [GeneratedRegex(@"saved (\S+model\.zip) \([0-9]+ KB\) and loaded it back: ([0-9]+) of [0-9]+ held-out predictions the same")]
    private static partial Regex SavedLine();

    [GeneratedRegex(@"(\S+\.png) \(class (\w+)\) → (\w+), probability ([0-9.]+)")]
    private static partial Regex PredictionLine();
}
