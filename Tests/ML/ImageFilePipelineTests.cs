using System.Diagnostics;
using Invertible.ML.Trainers;
using Invertible.Samples.ImageFiles;
using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Supervised;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Invertible.Tests.ML;

/// <summary>
/// An ML.NET pipeline from PNG files on disk to predictions through Microsoft.ML.ImageAnalytics (load, resize, gray,
/// extract pixels) into the i-ResNet image classifier; the image shape the pipeline writes must match
/// <see cref="InvertibleResNetTrainerOptions.Image"/>, and a mismatch is named.
/// </summary>
[TestClass]
public sealed class ImageFilePipelineTests
{
    private const int Side = 8;

    private static string root = "";

    /// <summary>12×12 bar images, training and held-out files written apart, with different seeds.</summary>
    [ClassInitialize]
    public static void WriteImages(TestContext _)
    {
        root = Directory.CreateTempSubdirectory("image-files-").FullName;
        BarImages.Write(Path.Combine(root, "train"), perClass: 200, side: 12, seed: 1);
        BarImages.Write(Path.Combine(root, "held-out"), perClass: 60, side: 12, seed: 2);
    }

    [ClassCleanup]
    public static void DeleteImages() => Directory.Delete(root, recursive: true);

    /// <summary>The files of <paramref name="part"/>, paths relative to the root the pipeline loads from.</summary>
    private static IDataView Files(MLContext context, string part)
        => context.Data.LoadFromEnumerable(ImageFolder.Read(Path.Combine(root, part))
            .Select(i => new LabelledImage { ImagePath = Path.Combine(part, i.ImagePath), Label = i.Label }));

    private static IEstimator<ITransformer> Pixels(MLContext context, int resize = Side, ImagePixelExtractingEstimator.ColorBits colors = ImagePixelExtractingEstimator.ColorBits.Red)
        => context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.LoadImages("Image", root, nameof(LabelledImage.ImagePath)))
            .Append(context.Transforms.ResizeImages("Image", resize, resize))
            .Append(context.Transforms.ConvertToGrayscale("Image"))
            .Append(context.Transforms.ExtractPixels("Features", "Image", colorsToExtract: colors, scaleImage: 1f / 255));

    /// <summary>A small network, one member: 8×8 bars need no more, and the fit takes seconds (the defaults reach the same
    /// accuracy here in about 60 epochs).</summary>
    private static InvertibleResNetTrainerOptions Options() => new()
    {
        Image = new ImageShape(1, Side, Side), Epochs = 25, Blocks = 2, HiddenFeatures = 8, Members = 1,
    };

    [TestMethod]
    public void ImageFiles_ThroughImageAnalytics_AreClassifiedOnHeldOutFiles()
    {
        var context = new MLContext(seed: 1);
        var watch = Stopwatch.StartNew();
        var model = Pixels(context).Append(context.MulticlassClassification.Trainers.InvertibleResNet(Options())).Fit(Files(context, "train"));
        var seconds = watch.Elapsed.TotalSeconds;
        var classifier = (InvertibleResNetClassifier)((ModelMembers)((SupervisedEnsemble)model.LastTransformer.Model).Members).Model(0);
        Assert.AreEqual(new ImageShape(1, Side, Side), classifier.Options.Image, "the classifier's blocks are convolutions on the pipeline's image");
        var heldOut = Files(context, "held-out");
        var ours = context.MulticlassClassification.Evaluate(model.Transform(heldOut));
        // SDCA passes over the rows many times: the cache keeps it from decoding every file again on each pass (40 s → 1 s).
        var linear = context.MulticlassClassification.Evaluate(Pixels(context).AppendCacheCheckpoint(context).Append(context.MulticlassClassification.Trainers.SdcaMaximumEntropy())
            .Fit(Files(context, "train")).Transform(heldOut));
        Console.WriteLine($"held-out accuracy {ours.MicroAccuracy:F3} (SdcaMaximumEntropy {linear.MicroAccuracy:F3}); fit {seconds:F1} s");
        Check.Less(0.9, ours.MicroAccuracy, $"held-out accuracy (SdcaMaximumEntropy on the same pixels: {linear.MicroAccuracy:F3})");
        Check.Less(linear.MicroAccuracy + 0.15, ours.MicroAccuracy, "held-out accuracy above the linear model's");
    }

    /// <summary><c>ExtractPixels</c> writes red, green and blue by default, also for a gray image.</summary>
    [TestMethod]
    public void ThreeChannelsOfPixels_ForAOneChannelImage_AreNamed()
    {
        var context = new MLContext(seed: 1);
        var pipeline = Pixels(context, colors: ImagePixelExtractingEstimator.ColorBits.Rgb)
            .Append(context.MulticlassClassification.Trainers.InvertibleResNet(Options()));
        var thrown = Assert.ThrowsExactly<ArgumentException>(() => pipeline.Fit(Files(context, "train")));
        StringAssert.Contains(thrown.Message, "Column 'Features' holds 192 values per row, but Image 1×8×8 holds 64.");
        Assert.AreEqual(nameof(InvertibleResNetTrainerOptions.Image), thrown.ParamName);
    }

    [TestMethod]
    public void AResizeToAnotherSize_IsNamed()
    {
        var context = new MLContext(seed: 1);
        var pipeline = Pixels(context, resize: 10).Append(context.MulticlassClassification.Trainers.InvertibleResNet(Options()));
        var thrown = Assert.ThrowsExactly<ArgumentException>(() => pipeline.Fit(Files(context, "train")));
        StringAssert.Contains(thrown.Message, "Column 'Features' holds 100 values per row, but Image 1×8×8 holds 64.");
    }
}
