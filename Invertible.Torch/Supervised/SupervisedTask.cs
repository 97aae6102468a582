namespace Invertible.Torch.Supervised;

/// <summary>What an <see cref="ISupervisedModel"/> predicts, and so its scores and loss.</summary>
public enum SupervisedTask
{
    /// <summary>One of K classes: K logits, softmax cross-entropy.</summary>
    MulticlassClassification,
    /// <summary>Two classes: one logit, binary cross-entropy with logits.</summary>
    BinaryClassification,
    /// <summary>Real-valued targets: mean squared error.</summary>
    Regression,
}

/// <summary>Checks shared by the models of every <see cref="SupervisedTask"/>.</summary>
internal static class SupervisedTaskChecks
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming <c>inputFeatures</c> or <c>outputs</c> when they do
    /// not fit <paramref name="task"/> (multiclass: two classes or more; binary: one logit).</summary>
    public static void CheckShape(this SupervisedTask task, int inputFeatures, int outputs)
    {
        if (inputFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inputFeatures), inputFeatures, "Must be at least 1.");
        if (outputs < 1) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "Must be at least 1.");
        if (task == SupervisedTask.MulticlassClassification && outputs < 2)
            throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "Multiclass classification needs at least 2 classes.");
        if (task == SupervisedTask.BinaryClassification && outputs != 1)
            throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "Binary classification has exactly 1 output (a logit).");
    }
}
