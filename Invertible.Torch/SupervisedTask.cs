namespace Invertible.Torch;

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
