using System.Text.Json;
using System.Text.Json.Nodes;
using Invertible.Torch.Persistence;

namespace Invertible.Torch.Supervised;

/// <summary>The checkpoint arguments a supervised model is built from: its input features, outputs, task and options.</summary>
internal static class SupervisedArguments
{
    public static JsonObject Of<TOptions>(ISupervisedModel model, TOptions options) => new()
    {
        ["inputFeatures"] = model.InputFeatures, ["outputs"] = model.Outputs,
        ["task"] = JsonSerializer.SerializeToNode(model.Task, Checkpoint.Json), ["options"] = JsonSerializer.SerializeToNode(options, Checkpoint.Json),
    };

    public static (int InputFeatures, int Outputs, SupervisedTask Task, TOptions Options) Read<TOptions>(JsonObject arguments)
        => (Checkpoint.Read<int>(arguments, "inputFeatures"), Checkpoint.Read<int>(arguments, "outputs"),
            Checkpoint.Read<SupervisedTask>(arguments, "task"), Checkpoint.Read<TOptions>(arguments, "options"));
}
