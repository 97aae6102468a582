using System.Text.Json;
using System.Text.Json.Nodes;
using Invertible.Torch.Core;
using Invertible.Torch.Persistence;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Supervised;

/// <summary>Members that are separate models (each an <see cref="ILinearStart"/>), evaluated one after the other.</summary>
public sealed class ModelMembers : nn.Module<Tensor, Tensor>, IMemberModel, ICheckpointable<ModelMembers>
{
    static string ICheckpointable<ModelMembers>.CheckpointKind => "ModelMembers";

    static int ICheckpointable<ModelMembers>.CheckpointVersion => 1;

    JsonObject ICheckpointable<ModelMembers>.CheckpointArguments() => new()
    {
        ["models"] = new JsonArray([.. Enumerable.Range(0, Members).Select(k => (JsonNode)Checkpoint.DescribePart((nn.Module)Model(k)))]),
    };

    static ModelMembers ICheckpointable<ModelMembers>.FromCheckpoint(JsonObject arguments) => new([.. arguments["models"]!.AsArray().Select(model => Checkpoint.CreatePart(model!.AsObject()))]);

    private readonly ModuleList<nn.Module> models;

    /// <summary>Wraps <paramref name="models"/>: supervised models of the same features, outputs and task.</summary>
    public ModelMembers(IReadOnlyList<nn.Module> models) : base(nameof(ModelMembers))
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0) throw new ArgumentException("At least one model is needed.", nameof(models));
        if (models[0] is not ILinearStart first)
            throw new ArgumentException($"Model 0 is a {models[0].GetType().Name}, which cannot start from a linear model (ILinearStart).", nameof(models));
        for (var k = 0; k < models.Count; k++)
        {
            if (models[k] is not ILinearStart model)
                throw new ArgumentException($"Model {k} is a {models[k].GetType().Name}, which cannot start from a linear model (ILinearStart).", nameof(models));
            if (model.InputFeatures != first.InputFeatures || model.Outputs != first.Outputs || model.Task != first.Task)
                throw new ArgumentException($"Model {k} maps {model.InputFeatures} features to {model.Outputs} {model.Task} outputs; model 0 maps {first.InputFeatures} to {first.Outputs} {first.Task}.", nameof(models));
        }
        (InputFeatures, Outputs, Task) = (first.InputFeatures, first.Outputs, first.Task);
        this.models = nn.ModuleList([.. models]);
        RegisterComponents();
    }

    /// <inheritdoc />
    public int Members => models.Count;

    /// <inheritdoc />
    public int InputFeatures { get; }

    /// <inheritdoc />
    public int Outputs { get; }

    /// <inheritdoc />
    public SupervisedTask Task { get; }

    /// <summary>Member <paramref name="index"/>.</summary>
    public ISupervisedModel Model(int index) => (ISupervisedModel)models[index];

    /// <inheritdoc />
    public SupervisedOutput EvaluateMembers(Tensor input)
    {
        Tensor? penalty = null;
        var scores = new Tensor[models.Count];
        for (var k = 0; k < models.Count; k++)
        {
            var output = Model(k).Evaluate(input);
            scores[k] = output.Scores;
            if (output.Penalty is { } p)
                penalty = penalty is null ? p : penalty.Add(p);
        }
        return new SupervisedOutput(stack(scores), null, penalty);
    }

    /// <inheritdoc />
    public SupervisedOutput Evaluate(Tensor input) => new(EvaluateMembers(input).Scores.mean([0]));

    /// <inheritdoc />
    public void InitializeLinear(int member, Tensor weight, Tensor bias) => ((ILinearStart)models[member]).InitializeLinear(weight, bias);

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Evaluate(input).Scores;
}
