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

    /// <summary>A log-likelihood in nats per row as bits per dimension, −log p(x) / (d ln 2): the unit of image density
    /// models. For values quantised in steps of δ (pixels k/255: δ = 1/255), add −log₂ δ for the discrete data's bits.</summary>
    internal static T BitsPerDimension<T>(ITensorAlgebra<T> ops, T logLikelihood, int features)
        => ops.Scale(logLikelihood, -1 / (features * Math.Log(2)));

    /// <summary>Bits per dimension, −log p(x) / (d ln 2), of log-likelihoods in nats of rows of <paramref name="features"/> values.</summary>
    public static Tensor BitsPerDimension(Tensor logLikelihood, int features)
    {
        OptionCheck.AtLeast(features, 1);
        return BitsPerDimension(new TensorAlgebra(logLikelihood), logLikelihood, features);
    }
}
