using Invertible.ML.Flows;
using Invertible.ML.Hosting;

namespace Microsoft.ML;

/// <summary>The product's entry points on ML.NET's catalogs.</summary>
public static class InvertibleCatalog
{
    /// <summary>
    /// An invertible residual flow trained by maximum likelihood: adds the latent code (<paramref name="outputColumnName"/>)
    /// and the per-row log-likelihood ("LogLikelihood"); the fitted transformer also maps latents back
    /// (<see cref="InvertibleResNetTransformer.Inverse"/>) and samples (<see cref="InvertibleResNetTransformer.Sample"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The latent column. Default "Latent".</param>
    /// <param name="inputColumnName">The input: a known-size vector of Single. Default "Features".</param>
    /// <param name="logLikelihoodColumnName">The log-likelihood column. Default "LogLikelihood".</param>
    public static InvertibleResNetEstimator InvertibleResNet(this TransformsCatalog catalog, string outputColumnName = InvertibleResNetOptions.Defaults.OutputColumnName,
        string inputColumnName = InvertibleResNetOptions.Defaults.FeatureColumnName, string logLikelihoodColumnName = InvertibleResNetOptions.Defaults.LogLikelihoodColumnName)
        => catalog.InvertibleResNet(new InvertibleResNetOptions
        {
            OutputColumnName = outputColumnName, FeatureColumnName = inputColumnName, LogLikelihoodColumnName = logLikelihoodColumnName,
        });

    /// <summary>An invertible residual flow with every option (<see cref="InvertibleResNetOptions"/>).</summary>
    public static InvertibleResNetEstimator InvertibleResNet(this TransformsCatalog catalog, InvertibleResNetOptions options)
        => new(CatalogEnvironment.Of(catalog), options);
}
