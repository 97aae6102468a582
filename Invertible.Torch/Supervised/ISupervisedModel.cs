using Invertible.Torch.Implicit;
using static TorchSharp.torch;

namespace Invertible.Torch.Supervised;

/// <summary>
/// A model from feature rows to scores: K logits (multiclass), one logit (binary) or the predicted values (regression).
/// </summary>
/// <remarks>Training (<c>Training.SupervisedObjective</c>), exporters and the ML.NET layer talk to this contract, not to
/// concrete types.</remarks>
public interface ISupervisedModel
{
    /// <summary>Features per row.</summary>
    int InputFeatures { get; }

    /// <summary>Scores per row.</summary>
    int Outputs { get; }

    /// <summary>What is predicted.</summary>
    SupervisedTask Task { get; }

    /// <summary>Scores for a [batch, <see cref="InputFeatures"/>] input, with what any implicit solve did.</summary>
    SupervisedOutput Evaluate(Tensor input);
}

/// <summary>The result of <see cref="ISupervisedModel.Evaluate"/>.</summary>
/// <param name="Scores">[batch, outputs].</param>
/// <param name="Solve">The implicit solve behind the scores (its adjoint statistics fill in once backward has run), or null.</param>
/// <param name="Penalty">A regularisation term the training loss adds (already weighted), or null.</param>
public sealed record SupervisedOutput(Tensor Scores, ImplicitSolveStatistics? Solve = null, Tensor? Penalty = null);
