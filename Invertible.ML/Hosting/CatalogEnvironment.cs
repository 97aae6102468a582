using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Invertible.ML.Hosting;

/// <summary>
/// The ML.NET environment behind a catalog (<c>mlContext.Transforms</c>, <c>mlContext.MulticlassClassification.Trainers</c>, …):
/// the one place that reaches into ML.NET internals.
/// </summary>
/// <remarks>
/// ML.NET (5.0.1 and 6.0.0) exposes a catalog's environment only through the internal interface <c>Microsoft.ML.Data.IInternalCatalog</c>
/// (every catalog implements it explicitly); reading it by reflection is what lets catalog extension methods log to
/// <c>mlContext.Log</c> and draw seeds from <c>MLContext(seed)</c>. Should a future ML.NET change that, the message names
/// the fallback: every estimator also has a constructor taking the <see cref="MLContext"/>.
/// </remarks>
internal static class CatalogEnvironment
{
    private const string InterfaceName = "Microsoft.ML.Data.IInternalCatalog";

    public static IHostEnvironment Of(object catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (catalog is IHostEnvironment environment)
            return environment;
        var property = catalog.GetType().GetInterface(InterfaceName)?.GetProperty("Environment");
        try
        {
            if (property?.GetValue(catalog) is IHostEnvironment found)
                return found;
        }
        catch (TargetInvocationException)
        {
        }
        var version = typeof(MLContext).Assembly.GetName().Version;
        throw new InvalidOperationException(
            $"Invertible.ML cannot reach the ML.NET environment behind {catalog.GetType().Name} (ML.NET {version} no longer exposes " +
            $"{InterfaceName}.Environment). Create the estimator from your MLContext instead, e.g. new InvertibleResNetEstimator(mlContext, options).");
    }
}
