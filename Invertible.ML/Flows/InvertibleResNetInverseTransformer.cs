using System.Text.Json.Nodes;
using System.Text.Json;
using Invertible.ML.Data;
using Invertible.ML.Mapping;
using Invertible.ML.Persistence;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Onnx;
using Invertible.Torch.Persistence;
using Invertible.Torch;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Invertible.ML.Flows;

/// <summary>
/// The inverse of a trained flow as an ML.NET transformer: reads latent codes and adds x = F⁻¹(z) (block by block,
/// fixed-point solves), with per-row iterations and whether every solve met its tolerance. A row whose solve stops at
/// the iteration cap is reported (Converged = false, its best iterate returned), not thrown for.
/// </summary>
public sealed class InvertibleResNetInverseTransformer : BatchedTransformer
{
    private readonly InverseFunction function;
    private readonly bool ownsModel;

    internal InvertibleResNetInverseTransformer(IHostEnvironment environment, InvertibleResNetFlow model, string inputColumnName, string outputColumnName, bool ownsModel)
        : base(environment, inputColumnName)
    {
        Model = model;
        OutputColumnName = outputColumnName;
        this.ownsModel = ownsModel;
        function = new InverseFunction(model, [
            new OutputColumn(outputColumnName, OutputKind.FloatVector, model.Features),
            new OutputColumn(IterationsColumnName, OutputKind.Int32),
            new OutputColumn(ConvergedColumnName, OutputKind.Boolean)]);
    }

    /// <summary>The flow (shared with the forward transformer this came from, unless loaded on its own).</summary>
    public InvertibleResNetFlow Model { get; }

    /// <summary>The reconstructed data column.</summary>
    public string OutputColumnName { get; }

    /// <summary>Fixed-point iterations per row, summed over the blocks (Int32): "{output}Iterations".</summary>
    public string IterationsColumnName => OutputColumnName + "Iterations";

    /// <summary>Whether every block's solve met its tolerance for the row (Boolean): "{output}Converged".</summary>
    public string ConvergedColumnName => OutputColumnName + "Converged";

    internal override IBatchFunction Function => function;

    internal override PersistedForm Persist() => new(
        FlowExporter.ExportInverse(Model), "latent",
        new Dictionary<string, string> { ["x"] = OutputColumnName, ["iterations"] = IterationsColumnName, ["converged"] = ConvergedColumnName },
        new JsonObject { ["kind"] = Kind, ["inputColumn"] = InputColumnName, ["outputColumn"] = OutputColumnName },
        Checkpoint.ToBytes(Model));

    internal const string Kind = "InvertibleResNetInverse";

    internal static InvertibleResNetInverseTransformer Restore(IHostEnvironment environment, JsonObject description, InvertibleResNetFlow model)
        => new(environment, model, (string)description["inputColumn"]!, (string)description["outputColumn"]!, ownsModel: true);

    private protected override void DisposeModel()
    {
        if (ownsModel)
            Model.Dispose();
    }

    private sealed class InverseFunction(InvertibleResNetFlow model, IReadOnlyList<OutputColumn> columns) : IBatchFunction
    {
        private readonly Device device = model.parameters().First().device;
        private readonly ImplicitOptions options = model.DefaultInverseOptions with
        {
            Forward = model.DefaultInverseOptions.Forward with { ThrowOnNonConvergence = false },
        };

        public int InputWidth => model.Features;

        public IReadOnlyList<OutputColumn> Columns => columns;

        public object[] Compute(ReadOnlySpan<float> input, int rows)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var result = model.InverseWithStatistics(TensorRows.From(input, rows, device), options);
            return [TensorRows.Floats(result.Input), result.RowIterations(), result.RowConverged()];
        }
    }
}
