using Invertible.Torch.Core;
using Invertible.Torch.Training;
using static TorchSharp.torch;

namespace Invertible.Tests.Training;

/// <summary><see cref="RandomShift"/>: every image is its own translate, edges repeated, by each offset in range.</summary>
[TestClass]
public sealed class RandomShiftTests
{
    private static readonly ImageShape Image = new(2, 5, 6);

    // out[c, i, j] = image[c, clamp(i + dy), clamp(j + dx)], written out pixel by pixel.
    private static float[] Translated(float[] image, int dy, int dx)
    {
        var output = new float[image.Length];
        for (var c = 0; c < Image.Channels; c++)
            for (var i = 0; i < Image.Height; i++)
                for (var j = 0; j < Image.Width; j++)
                    output[(c * Image.Height + i) * Image.Width + j] = image[(c * Image.Height + Math.Clamp(i + dy, 0, Image.Height - 1)) * Image.Width + Math.Clamp(j + dx, 0, Image.Width - 1)];
        return output;
    }

    [TestMethod]
    public void EveryImage_IsATranslateWithRepeatedEdges_AndEveryOffsetOccurs()
    {
        const int maxPixels = 2, rows = 400;
        var input = randn(rows, Image.Size, generator: new Generator(1));
        var output = new RandomShift(Image, maxPixels).Apply(input, new Generator(2));
        Assert.AreEqual(Image.Size, (int)output.shape[1]);
        var seen = new HashSet<(int, int)>();
        for (var r = 0; r < rows; r++)
        {
            var image = input[r].data<float>().ToArray();
            var shifted = output[r].data<float>().ToArray();
            var offsets = (from dy in Enumerable.Range(-maxPixels, 2 * maxPixels + 1)
                           from dx in Enumerable.Range(-maxPixels, 2 * maxPixels + 1)
                           where Translated(image, dy, dx).SequenceEqual(shifted)
                           select (dy, dx)).ToList();
            Assert.AreEqual(1, offsets.Count, $"row {r}: one offset within ±{maxPixels} reproduces the shifted image");
            seen.Add(offsets[0]);
        }
        Assert.AreEqual(25, seen.Count, "each of the 5 × 5 offsets occurs in 400 rows");
    }

    [TestMethod]
    public void NoShift_IsTheIdentity_AndBadArgumentsAreNamed()
    {
        var input = randn(3, Image.Size, generator: new Generator(3));
        Assert.AreSame(input, new RandomShift(Image, 0).Apply(input));
        var tooFar = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new RandomShift(Image, 5));
        Assert.AreEqual("maxPixels", tooFar.ParamName);
        StringAssert.Contains(tooFar.Message, "[0, 5) for 2×5×6 images");
        Assert.AreEqual("rows", Assert.ThrowsExactly<ArgumentException>(() => new RandomShift(Image, 1).Apply(randn(3, 59))).ParamName);
    }
}
