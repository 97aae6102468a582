using static TorchSharp.torch;

namespace Invertible.Torch.Supervised;

/// <summary>
/// K supervised models that read the same input and are trained on different rows (cross-fitting): each member's
/// scores, and the mean of them as the model's own (<see cref="ISupervisedModel.Evaluate"/>).
/// </summary>
public interface IMemberModel : ISupervisedModel
{
    /// <summary>K.</summary>
    int Members { get; }

    /// <summary>Every member's scores for a [batch, features] input: Scores [members, batch, outputs].</summary>
    SupervisedOutput EvaluateMembers(Tensor input);

    /// <summary>Makes member <paramref name="member"/> the linear model x ↦ W x + b (W: [outputs, inputs], b: [outputs]).</summary>
    void InitializeLinear(int member, Tensor weight, Tensor bias);
}
