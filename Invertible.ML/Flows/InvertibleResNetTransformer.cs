using System.Text.Json.Nodes;
using Invertible.ML.Data;
using Invertible.ML.Mapping;
using Invertible.ML.Persistence;
using System.Globalization;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using Invertible.Torch.Persistence;
using Invertible.Torch.Training;
using Invertible.Torch;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.ML.Flows;

/// <summary>
/// A trained invertible residual flow as an ML.NET transformer: <see cref="BatchedTransformer.Transform"/> adds the latent
/// code z = F(x), the log-likelihood log p(x) = log N(z; 0, I) + log|det J_F(x)| and it in bits per dimension per row;
/// <see cref="Inverse"/> maps latent codes back to data; <see cref="Sample"/> draws new rows; <see cref="ExportOnnx"/>
/// writes both directions as ONNX.
/// </summary>
public sealed class InvertibleResNetTransformer : BatchedTransformer
{
    private readonly ForwardFunction function;

    internal InvertibleResNetTransformer(IHostEnvironment environment, InvertibleResNetFlow model, string featureColumnName,
        string outputColumnName, string logLikelihoodColumnName, string bitsPerDimensionColumnName, TrainingReport? report)
        : base(environment, featureColumnName)
    {
        Model = model;
        OutputColumnName = outputColumnName;
        LogLikelihoodColumnName = logLikelihoodColumnName;
        BitsPerDimensionColumnName = bitsPerDimensionColumnName;
        TrainingReport = report;
        function = new ForwardFunction(model, [
            new OutputColumn(outputColumnName, OutputKind.FloatVector, model.Features),
            new OutputColumn(logLikelihoodColumnName, OutputKind.Float),
            new OutputColumn(bitsPerDimensionColumnName, OutputKind.Float)]);
    }

    /// <summary>The trained flow (TorchSharp).</summary>
    public InvertibleResNetFlow Model { get; }

    /// <summary>The latent column.</summary>
    public string OutputColumnName { get; }

    /// <summary>The log-likelihood column (nats).</summary>
    public string LogLikelihoodColumnName { get; }

    /// <summary>The bits-per-dimension column: −log p(x) / (d ln 2).</summary>
    public string BitsPerDimensionColumnName { get; }

    /// <summary>What training did (epochs, losses, best epoch), or null for a transformer loaded from disk.</summary>
    public TrainingReport? TrainingReport { get; }

    internal override IBatchFunction Function => function;

    /// <summary>
    /// The inverse map as a transformer: reads latent codes from <paramref name="inputColumnName"/> and adds the data rows
    /// x = F⁻¹(z) as <paramref name="outputColumnName"/>, with per-row solver iterations ("{output}Iterations", Int32) and
    /// convergence ("{output}Converged", Boolean). It shares this transformer's model.
    /// </summary>
    public InvertibleResNetInverseTransformer Inverse(string outputColumnName = "Reconstructed", string inputColumnName = InvertibleResNetOptions.Defaults.OutputColumnName)
        => new(Environment, Model, inputColumnName, outputColumnName, ownsModel: false);

    /// <summary>
    /// <paramref name="count"/> rows drawn from the model (z ~ N(0, I), x = F⁻¹(z)) in a column named like the input
    /// column. Seeded by <paramref name="seed"/>, or by the <c>MLContext</c>'s seed when null.
    /// </summary>
    /// <exception cref="Invertible.Torch.Solvers.SolverNotConvergedException">An inverse solve missed its tolerance.</exception>
    public IDataView Sample(int count, int? seed = null)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Must be at least 1.");
        var generator = new TorchSharp.torch.Generator((ulong)(seed ?? Environment.Register(nameof(Sample)).Rand.Next()));
        Tensor samples;
        using (no_grad())
            samples = Model.Sample(count, generator).Input;
        var values = TensorRows.Floats(samples);
        var rows = Enumerable.Range(0, count).Select(i => new SampleRow { Values = values[(i * InputWidth)..((i + 1) * InputWidth)] });
        var schema = SchemaDefinition.Create(typeof(SampleRow));
        schema[0].ColumnName = InputColumnName;
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, InputWidth);
        return new MLContext().Data.LoadFromEnumerable(rows.ToList(), schema);
    }

    /// <summary>
    /// Writes the forward graph ("x" → "latent", "log_likelihood") to <paramref name="forwardPath"/> and, when given, the
    /// inverse graph ("latent" → "x", "iterations", "residual", "converged") to <paramref name="inversePath"/>; both files
    /// are written atomically. They run in ONNX Runtime alone.
    /// </summary>
    public void ExportOnnx(string forwardPath, string? inversePath = null, OnnxExportOptions? options = null)
    {
        FlowExporter.ExportForward(Model, options).Save(forwardPath);
        if (inversePath is not null)
            FlowExporter.ExportInverse(Model, options).Save(inversePath);
    }

    internal override PersistedForm Persist() => new(
        FlowExporter.ExportForward(Model), "x",
        new Dictionary<string, string> { ["latent"] = OutputColumnName, ["log_likelihood"] = LogLikelihoodColumnName, ["bits_per_dimension"] = BitsPerDimensionColumnName },
        new JsonObject
        {
            ["kind"] = Kind, ["featureColumn"] = InputColumnName, ["outputColumn"] = OutputColumnName, ["logLikelihoodColumn"] = LogLikelihoodColumnName,
            ["bitsPerDimensionColumn"] = BitsPerDimensionColumnName,
        },
        Checkpoint.ToBytes(Model));

    /// <summary>The kind in a saved description.</summary>
    internal const string Kind = "InvertibleResNet";

    internal static InvertibleResNetTransformer Restore(IHostEnvironment environment, JsonObject description, InvertibleResNetFlow model)
        => new(environment, model, (string)description["featureColumn"]!, (string)description["outputColumn"]!, (string)description["logLikelihoodColumn"]!,
            (string)description["bitsPerDimensionColumn"]!, null);

    private protected override void DisposeModel()
    {
        function.Dispose();
        Model.Dispose();
    }

    /// <summary>Through ONNX Runtime where its graph computes the same (<see cref="OnnxForwardScorer.Applies"/>), else TorchSharp.</summary>
    private sealed class ForwardFunction(InvertibleResNetFlow model, IReadOnlyList<OutputColumn> columns) : IBatchFunction, IDisposable
    {
        private readonly OnnxForwardScorer scorer = new(model);

        public int InputWidth => model.Features;

        public IReadOnlyList<OutputColumn> Columns => columns;

        public object[] Compute(ReadOnlySpan<float> input, int rows)
        {
            // ONNX Runtime would turn a value outside the logit's domain into NaN: name it, as the TorchSharp layer does.
            if (model.Layers.FirstOrDefault() is Logit)
                for (var i = 0; i < input.Length; i++)
                    if (!(input[i] >= 0 && input[i] <= 1))
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                            $"The flow's logit transform needs values in [0, 1] (pixels scaled by 1/255); slot {i % model.Features} of a row holds {input[i]}."));
            var (latent, logLikelihood) = scorer.Forward(input, rows);
            using var scope = NewDisposeScope();
            return [latent, logLikelihood, StandardNormal.BitsPerDimension(tensor(logLikelihood), model.Features).data<float>().ToArray()];
        }

        public void Dispose() => scorer.Dispose();
    }

    private sealed class SampleRow
    {
        public float[] Values { get; set; } = [];
    }
}
