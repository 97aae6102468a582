using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Flows;

/// <summary>
/// An invertible density model: a bijection z = F(x) from data to a standard normal latent space, composed of
/// <see cref="Layers"/>, with log p(x) = log N(F(x); 0, I) + log|det ∂F/∂x|.
/// </summary>
/// <remarks>
/// <para>Sign rule: <see cref="IInvertibleLayer.ForwardWithLogDet"/> returns log|det ∂z/∂x| of the data-to-latent
/// direction; the latent-to-data direction's log-determinant at the matching point is its negative, so
/// log p(x) = log N(z; 0, I) + logdet and a sample's log-density is log N(z; 0, I) − log|det ∂x/∂z|.</para>
/// <para>Exporters and the ML.NET layer talk to this contract, not to concrete types.</para>
/// </remarks>
public interface IInvertibleDensityModel : IInvertibleLayer
{
    /// <summary>The layers, first applied first in the data-to-latent direction.</summary>
    IReadOnlyList<IInvertibleLayer> Layers { get; }

    /// <summary>Solver options of the inverse when none are passed.</summary>
    ImplicitOptions DefaultInverseOptions { get; }

    /// <summary>log p(x) per row, in nats.</summary>
    Tensor LogLikelihood(Tensor input)
    {
        var (latent, logDet) = ForwardWithLogDet(input);
        return StandardNormal.LogProb(latent).Add(logDet);
    }

    /// <summary>Draws <paramref name="count"/> rows from the model: z ~ N(0, I), x = F⁻¹(z), without gradients.</summary>
    InverseResult Sample(int count, Generator? generator = null, ImplicitOptions? options = null);
}

/// <summary>What the density models share, written once.</summary>
internal static class DensityModel
{
    /// <summary>F as the composition of <paramref name="layers"/>; the input is checked once, not by every layer.</summary>
    public static (Tensor Latent, Tensor LogDet) ForwardWithLogDet(IReadOnlyList<IInvertibleLayer> layers, Tensor input, int features)
    {
        RowInput.Check(input, features, nameof(input));
        using var _ = RowInput.Trusted();
        var value = input;
        Tensor? logDet = null;
        foreach (var layer in layers)
        {
            var (output, layerLogDet) = layer.ForwardWithLogDet(value);
            value = output;
            logDet = logDet is null ? layerLogDet : logDet.Add(layerLogDet);
        }
        return (value, logDet!);
    }

    /// <summary>F⁻¹ layer by layer in reverse, collecting every solve's statistics.</summary>
    public static InverseResult Inverse(IReadOnlyList<IInvertibleLayer> layers, Tensor latent, int features, ImplicitOptions options, string name = "latent")
    {
        RowInput.Check(latent, features, name);
        using var _ = RowInput.Trusted();
        var value = latent;
        var solves = new List<ImplicitSolveStatistics>();
        for (var i = layers.Count - 1; i >= 0; i--)
        {
            var result = layers[i].InverseWithStatistics(value, options);
            value = result.Input;
            solves.AddRange(result.Solves);
        }
        return new InverseResult(value, solves);
    }

    /// <summary>z ~ N(0, I) in the type and on the device of <paramref name="like"/>, then F⁻¹(z).</summary>
    public static InverseResult Sample(IInvertibleDensityModel model, Tensor like, int count, Generator? generator, ImplicitOptions? options)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Must be at least 1.");
        using var _ = no_grad();
        var latent = randn([count, model.Features], dtype: like.dtype, device: like.device, generator: generator);
        return model.InverseWithStatistics(latent, options);
    }
}
