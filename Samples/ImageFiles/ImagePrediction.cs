namespace Invertible.Samples.ImageFiles;

/// <summary>What the pipeline predicts for one image: the class name and the scores (probabilities) of all classes.</summary>
internal sealed class ImagePrediction
{
    public string PredictedClass { get; set; } = "";

    public float[] Score { get; set; } = [];
}
