using System.Diagnostics;
using System.Globalization;
using Invertible.Samples.ImageFiles;
using Microsoft.ML;
using Microsoft.ML.Data;

// ImageFiles: an ML.NET pipeline from image files on disk to predictions, with the i-ResNet image classifier.
//
// Give it a folder holding one subfolder per class (the subfolder's name is the class), or nothing: it then writes
// a folder of small generated PNG images (a horizontal or a vertical bar in noise) to classify. Microsoft.ML.ImageAnalytics
// loads the files, resizes them to side × side and grays them; one channel of pixels goes to the classifier, whose
// residual blocks are convolutions on that image. A quarter of the images are held out: the program prints their
// accuracy, saves the fitted pipeline with mlContext.Model.Save, loads it back and predicts one held-out image.
//
// Usage: ImageFiles [<folder>] [--side N] [--epochs N] [--quick] [--output <folder>]
//   <folder>   images in one subfolder per class (default: generated bar images, written under the output folder)
//   --side     images are resized to N × N (default 8)
//   --epochs   training epochs (default 40)
//   --quick    fewer generated images and 30 epochs, as the project's test runs it
//   --output   where model.zip (and generated images) go (default: image-files-output)
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string? folder = null;
var (quick, side, epochs, output) = (false, 8, (int?)null, "image-files-output");
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--quick": quick = true; break;
        case "--side": side = int.Parse(Value(ref i), CultureInfo.InvariantCulture); break;
        case "--epochs": epochs = int.Parse(Value(ref i), CultureInfo.InvariantCulture); break;
        case "--output": output = Value(ref i); break;
        case var option when option.StartsWith("--", StringComparison.Ordinal): throw new ArgumentException($"Unknown option {option}.", nameof(args));
        default: folder = args[i]; break;
    }
}
epochs ??= quick ? 30 : 40;
output = Path.GetFullPath(output);
Directory.CreateDirectory(output);
if (folder is null)
{
    var perClass = quick ? 120 : 300;
    // Named by its size: a run of the other size writes its own folder rather than mixing files into this one.
    folder = Path.Combine(output, $"bar-images-{perClass}");
    BarImages.Write(folder, perClass, side: 12, seed: 1);
}
folder = Path.GetFullPath(folder);

var images = ImageFolder.Read(folder);
var classes = images.Select(i => i.Label).Distinct().ToList();
Console.WriteLine($"{images.Count} images in {classes.Count} classes ({string.Join(", ", classes)}) under {folder}");

var mlContext = new MLContext(seed: 1);
var split = mlContext.Data.TrainTestSplit(mlContext.Data.LoadFromEnumerable(images), testFraction: 0.25, seed: 1);
var heldOut = mlContext.Data.CreateEnumerable<LabelledImage>(split.TestSet, reuseRowObject: false).ToList();
var watch = Stopwatch.StartNew();
var model = ImagePipeline.Create(mlContext, folder, side, epochs.Value).Fit(split.TrainSet);
var fitSeconds = watch.Elapsed.TotalSeconds;

var scored = model.Transform(split.TestSet);
var metrics = mlContext.MulticlassClassification.Evaluate(scored);
var predicted = scored.GetColumn<string>(nameof(ImagePrediction.PredictedClass)).ToList();
Console.WriteLine($"held-out accuracy {metrics.MicroAccuracy:F3} ({predicted.Where((p, i) => p == heldOut[i].Label).Count()} of {heldOut.Count} images; "
    + $"{side}×{side} gray, {epochs} epochs, fit in {fitSeconds:F1} s)");

var path = Path.Combine(output, "model.zip");
mlContext.Model.Save(model, split.TrainSet.Schema, path);
var reloaded = mlContext.Model.LoadInvertible(path, out _);
var again = reloaded.Transform(split.TestSet).GetColumn<string>(nameof(ImagePrediction.PredictedClass)).ToList();
Console.WriteLine($"saved {path} ({new FileInfo(path).Length / 1024} KB) and loaded it back: {again.Where((p, i) => p == predicted[i]).Count()} of {heldOut.Count} held-out predictions the same");

using var engine = mlContext.Model.CreatePredictionEngine<LabelledImage, ImagePrediction>(reloaded);
var one = heldOut[0];
var prediction = engine.Predict(one);
Console.WriteLine($"{one.ImagePath} (class {one.Label}) → {prediction.PredictedClass}, probability {prediction.Score.Max():F3}");

string Value(ref int i) => ++i < args.Length ? args[i] : throw new ArgumentException($"Option {args[i - 1]} needs a value.", nameof(args));
