using System.Text.Json;
using System.Text.Json.Nodes;
using Invertible.Torch.Core;
using Invertible.Torch.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Supervised;

/// <summary>
/// A supervised model trained by cross-fitting: an input scaling (<see cref="InputScaling"/>), K members
/// (<see cref="IMemberModel"/>) averaged, and an output scale and shift: scores = a ⊙ mean_k s_k(x̃) + c, with (a, c) a
/// regression's target standard deviation and mean (members predict standardised targets) and (1, 0) otherwise.
/// </summary>
public sealed class SupervisedEnsemble : nn.Module<Tensor, Tensor>, ISupervisedModel, ICheckpointable<SupervisedEnsemble>
{
    static string ICheckpointable<SupervisedEnsemble>.CheckpointKind => "SupervisedEnsemble";

    static int ICheckpointable<SupervisedEnsemble>.CheckpointVersion => 1;

    JsonObject ICheckpointable<SupervisedEnsemble>.CheckpointArguments() => new()
    {
        ["features"] = InputFeatures, ["clipBound"] = Scaling.ClipBound, ["dtype"] = Scaling.Mean.dtype.ToString(),
        ["members"] = Checkpoint.DescribePart((nn.Module)Members),
    };

    static SupervisedEnsemble ICheckpointable<SupervisedEnsemble>.FromCheckpoint(JsonObject arguments) => new(
        new InputScaling(Checkpoint.Read<int>(arguments, "features"), arguments["clipBound"]?.GetValue<double>(), Enum.Parse<ScalarType>(Checkpoint.Read<string>(arguments, "dtype"))),
        Checkpoint.CreatePart(Checkpoint.Read<JsonObject>(arguments, "members")) as IMemberModel ?? throw new CheckpointException("The ensemble's members are not a member model."));

    private readonly InputScaling scaling;
    private readonly nn.Module members;
    private readonly Tensor outputScale, outputShift;

    /// <summary>Creates the model from its parts.</summary>
    public SupervisedEnsemble(InputScaling scaling, IMemberModel members) : base(nameof(SupervisedEnsemble))
    {
        ArgumentNullException.ThrowIfNull(scaling);
        ArgumentNullException.ThrowIfNull(members);
        if (members is not nn.Module module)
            throw new ArgumentException($"The members must be a module; got {members.GetType().Name}.", nameof(members));
        if (scaling.Features != members.InputFeatures)
            throw new ArgumentException($"The scaling has {scaling.Features} features; the members read {members.InputFeatures}.", nameof(scaling));
        (InputFeatures, Outputs, Task) = (members.InputFeatures, members.Outputs, members.Task);
        this.scaling = scaling;
        this.members = module;
        var dtype = scaling.Mean.dtype;
        outputScale = ones(Outputs, dtype: dtype);
        outputShift = zeros(Outputs, dtype: dtype);
        register_buffer("output_scale", outputScale);
        register_buffer("output_shift", outputShift);
        RegisterComponents();
    }

    /// <inheritdoc />
    public int InputFeatures { get; }

    /// <inheritdoc />
    public int Outputs { get; }

    /// <inheritdoc />
    public SupervisedTask Task { get; }

    /// <summary>The input scaling.</summary>
    public InputScaling Scaling => scaling;

    /// <summary>The members.</summary>
    public IMemberModel Members => (IMemberModel)members;

    /// <summary>a of scores = a ⊙ mean + c, [outputs].</summary>
    public Tensor OutputScale => outputScale;

    /// <summary>c of scores = a ⊙ mean + c, [outputs].</summary>
    public Tensor OutputShift => outputShift;

    /// <summary>Sets a and c (a regression's target standard deviation and mean).</summary>
    public void SetOutputTransform(Tensor scale, Tensor shift)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(shift);
        if (!scale.shape.SequenceEqual([Outputs]) || !shift.shape.SequenceEqual([Outputs]))
            throw new ArgumentException($"Expected scale and shift of shape [{Outputs}]; got [{string.Join(", ", scale.shape)}] and [{string.Join(", ", shift.shape)}].");
        RowInput.CheckFinite(scale, nameof(scale));
        RowInput.CheckFinite(shift, nameof(shift));
        using var _ = no_grad();
        outputScale.copy_(scale);
        outputShift.copy_(shift);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Evaluate(input).Scores;

    /// <inheritdoc />
    public SupervisedOutput Evaluate(Tensor input)
    {
        RowInput.Check(input, InputFeatures, nameof(input));
        var output = Members.Evaluate(scaling.call(input));
        return output with { Scores = output.Scores.mul(outputScale).Add(outputShift) };
    }
}
