using static TorchSharp.torch;

namespace Invertible.Torch.Supervised;

/// <summary>A supervised model that contains the linear model x ↦ W x + b and can be set to exactly it, so that
/// training starts from a fitted linear model.</summary>
public interface ILinearStart : ISupervisedModel
{
    /// <summary>Makes the model's scores equal W x + b (W: [outputs, inputs], b: [outputs]).</summary>
    void InitializeLinear(Tensor weight, Tensor bias);
}
