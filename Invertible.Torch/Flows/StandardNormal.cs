using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>The base density of the flows: log N(z; 0, I) = −‖z‖² / 2 − (d / 2) log 2π per row, written once for
/// TorchSharp and ONNX.</summary>
public static class StandardNormal
{
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>log N(z; 0, I) per row of a [batch, <paramref name="features"/>] z.</summary>
    internal static T LogProb<T>(ITensorAlgebra<T> ops, T latent, int features)
        => ops.Sub(ops.Scale(ops.RowSumOfSquares(latent), -0.5), ops.Constant(HalfLogTwoPi * features));

    /// <summary>log N(z; 0, I) per row, [batch].</summary>
    public static Tensor LogProb(Tensor latent) => LogProb(new TensorAlgebra(latent), latent, (int)latent.shape[1]);
}
