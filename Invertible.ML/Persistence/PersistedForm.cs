using System.Text.Json.Nodes;
using Invertible.Torch.Persistence;
using Microsoft.ML;
using Onnx;

namespace Invertible.ML.Persistence;

/// <summary>What a transformer is saved as.</summary>
/// <param name="Graph">The exported batch graph ([batch, d] input).</param>
/// <param name="GraphInput">The graph's input name.</param>
/// <param name="Outputs">Graph output name → the column it becomes.</param>
/// <param name="Description">Everything besides the model that <c>LoadInvertible</c> needs to rebuild the transformer
/// (its kind, column names, settings).</param>
/// <param name="Checkpoint">The model's checkpoint bytes.</param>
/// <param name="After">ML.NET steps that follow the graph in the saved chain (e.g. class index → label key), or null.</param>
/// <param name="Temporary">Columns the steps use that the saved chain drops at the end.</param>
internal sealed record PersistedForm(ModelProto Graph, string GraphInput, IReadOnlyDictionary<string, string> Outputs, JsonObject Description,
    byte[] Checkpoint, Func<MLContext, IEstimator<ITransformer>>? After = null, IReadOnlyList<string>? Temporary = null);
