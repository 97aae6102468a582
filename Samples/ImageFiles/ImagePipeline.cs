using Invertible.ML.Trainers;
using Invertible.Torch.Core;
using Microsoft.ML;
using Microsoft.ML.Transforms.Image;

namespace Invertible.Samples.ImageFiles;

/// <summary>
/// Image files to predictions: load, resize to a square, gray, one channel of pixels scaled to [0, 1], then the i-ResNet
/// classifier with convolutional blocks on that 1 × side × side image.
/// </summary>
internal static class ImagePipeline
{
    public static IEstimator<ITransformer> Create(MLContext mlContext, string imageFolder, int side, int epochs)
        => mlContext.Transforms.Conversion.MapValueToKey(nameof(LabelledImage.Label))
            .Append(mlContext.Transforms.LoadImages("Image", imageFolder, nameof(LabelledImage.ImagePath)))
            .Append(mlContext.Transforms.ResizeImages("Image", side, side))
            .Append(mlContext.Transforms.ConvertToGrayscale("Image"))
            // A gray image has equal red, green and blue: one of them is the whole image, and Image below says so.
            .Append(mlContext.Transforms.ExtractPixels("Features", "Image", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1f / 255))
            .Append(mlContext.MulticlassClassification.Trainers.InvertibleResNet(new InvertibleResNetTrainerOptions
            {
                Image = new ImageShape(Channels: 1, Height: side, Width: side),
                // Small images, a small network: two blocks of 8 hidden channels learn the generated bars within about ten
                // epochs, where the defaults (four blocks of 32) sit near the linear model for some 20 epochs first.
                Blocks = 2,
                HiddenFeatures = 8,
                Epochs = epochs,
                // One model on 80 % of the rows rather than the default five cross-fitted members: a fifth of the time.
                Members = 1,
            }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(nameof(ImagePrediction.PredictedClass), "PredictedLabel"));
}
