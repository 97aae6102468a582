namespace Invertible.Samples.ImageFiles;

/// <summary>One input row: an image file, relative to the image folder, and its class.</summary>
internal sealed class LabelledImage
{
    public string ImagePath { get; set; } = "";

    public string Label { get; set; } = "";
}
