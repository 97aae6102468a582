using System.Globalization;
using Invertible.ML.Flows;
using Invertible.Torch.Checks;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Invertible.ML.Checks;

/// <summary>
/// Checks for users' test suites on a fitted flow transformer: that it inverts on their data, and that an exported
/// ONNX file scores like it. Each throws <see cref="CheckFailedException"/> with the row, slot and values that fail.
/// </summary>
public static class TransformerChecks
{
    /// <summary>
    /// Maps the rows of <paramref name="data"/> forward and back with <see cref="InvertibleResNetTransformer.Inverse"/>
    /// and checks that every row's solve converged and max |x − F⁻¹(F(x))| ≤ <paramref name="tolerance"/>.
    /// </summary>
    /// <returns>The largest reconstruction error.</returns>
    public static double RoundTrip(InvertibleResNetTransformer transformer, IDataView data, double tolerance = 1e-4)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tolerance);
        const string reconstructed = "RoundTripCheck";
        // Cached with its columns prefetched: one pass through the forward and inverse maps, not one per column read.
        var back = new MLContext().Data.Cache(transformer.Inverse(reconstructed, transformer.OutputColumnName).Transform(transformer.Transform(data)),
            transformer.InputColumnName, reconstructed, reconstructed + "Converged");
        var inputs = back.GetColumn<float[]>(transformer.InputColumnName).ToArray();
        var outputs = back.GetColumn<float[]>(reconstructed).ToArray();
        var converged = back.GetColumn<bool>(reconstructed + "Converged").ToArray();
        var worst = 0.0;
        for (var row = 0; row < inputs.Length; row++)
        {
            if (!converged[row])
                throw new CheckFailedException($"Row {row}: the inverse did not converge (column '{transformer.InputColumnName}').");
            for (var slot = 0; slot < inputs[row].Length; slot++)
            {
                var error = Math.Abs(inputs[row][slot] - outputs[row][slot]);
                if (!(error <= tolerance))
                    throw new CheckFailedException(string.Create(CultureInfo.InvariantCulture,
                        $"Row {row}, slot {slot} of '{transformer.InputColumnName}': x = {inputs[row][slot]:G9}, F⁻¹(F(x)) = {outputs[row][slot]:G9} (|diff| {error:G3} > {tolerance:G3})."));
                worst = Math.Max(worst, error);
            }
        }
        return worst;
    }

    /// <summary>
    /// Runs the forward graph at <paramref name="onnxPath"/> (written by <see cref="InvertibleResNetTransformer.ExportOnnx"/>)
    /// in ONNX Runtime on the rows of <paramref name="data"/> and checks its latent and log-likelihood outputs against
    /// <paramref name="transformer"/>'s within <paramref name="tolerance"/>.
    /// </summary>
    /// <returns>The largest difference.</returns>
    public static double OnnxParity(string onnxPath, InvertibleResNetTransformer transformer, IDataView data, double tolerance = 1e-4)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tolerance);
        if (!File.Exists(onnxPath))
            throw new FileNotFoundException($"No ONNX file at '{onnxPath}'.", onnxPath);
        var scored = new MLContext().Data.Cache(transformer.Transform(data),
            transformer.InputColumnName, transformer.OutputColumnName, transformer.LogLikelihoodColumnName);
        var rows = scored.GetColumn<float[]>(transformer.InputColumnName).ToArray();
        var latents = scored.GetColumn<float[]>(transformer.OutputColumnName).ToArray();
        var logLikelihoods = scored.GetColumn<float>(transformer.LogLikelihoodColumnName).ToArray();
        if (rows.Length == 0)
            throw new ArgumentException("The data has no rows to compare on.", nameof(data));
        var width = rows[0].Length;

        using var session = new InferenceSession(onnxPath);
        var input = new DenseTensor<float>(rows.SelectMany(r => r).ToArray(), [rows.Length, width]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
        var onnxLatent = results.Single(r => r.Name == "latent").AsEnumerable<float>().ToArray();
        var onnxLogLikelihood = results.Single(r => r.Name == "log_likelihood").AsEnumerable<float>().ToArray();
        var worst = 0.0;
        for (var row = 0; row < rows.Length; row++)
        {
            worst = Math.Max(worst, Compare(row, "log_likelihood", onnxLogLikelihood[row], logLikelihoods[row], tolerance));
            for (var slot = 0; slot < width; slot++)
                worst = Math.Max(worst, Compare(row, $"latent slot {slot}", onnxLatent[row * width + slot], latents[row][slot], tolerance));
        }
        return worst;
    }

    private static double Compare(int row, string what, float onnx, float model, double tolerance)
    {
        var difference = Math.Abs(onnx - model);
        if (!(difference <= tolerance))
            throw new CheckFailedException(string.Create(CultureInfo.InvariantCulture,
                $"Row {row}, {what}: ONNX Runtime {onnx:G9}, the transformer {model:G9} (|diff| {difference:G3} > {tolerance:G3})."));
        return difference;
    }
}
