namespace Invertible.Torch.Equilibrium;

/// <summary>What an <see cref="EquilibriumNetwork"/> predicts.</summary>
public enum EquilibriumTask
{
    /// <summary>One of K classes: K logits, softmax cross-entropy.</summary>
    MulticlassClassification,
    /// <summary>Two classes: one logit, binary cross-entropy with logits.</summary>
    BinaryClassification,
    /// <summary>Real-valued targets: mean squared error.</summary>
    Regression,
}
