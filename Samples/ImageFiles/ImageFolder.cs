namespace Invertible.Samples.ImageFiles;

/// <summary>Reads a folder holding one subfolder per class, the subfolder's name being the label of the images in it.</summary>
internal static class ImageFolder
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>The image files under <paramref name="folder"/>, paths relative to it, in a fixed order.</summary>
    /// <exception cref="ArgumentException">No subfolder holds an image file.</exception>
    public static IReadOnlyList<LabelledImage> Read(string folder)
    {
        if (!Directory.Exists(folder))
            throw new ArgumentException($"Image folder '{folder}' does not exist.", nameof(folder));
        var images = Directory.GetDirectories(folder).Order(StringComparer.Ordinal)
            .SelectMany(directory => Directory.GetFiles(directory).Order(StringComparer.Ordinal)
                .Where(file => Extensions.Contains(Path.GetExtension(file).ToLowerInvariant()))
                .Select(file => new LabelledImage { ImagePath = Path.GetRelativePath(folder, file), Label = Path.GetFileName(directory) }))
            .ToList();
        if (images.Count == 0)
            throw new ArgumentException($"Image folder '{folder}' has no subfolder holding image files ({string.Join(", ", Extensions)}); put each class's images in a subfolder named after it.", nameof(folder));
        return images;
    }
}
