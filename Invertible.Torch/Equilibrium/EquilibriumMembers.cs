using System.Text.Json.Nodes;
using Invertible.Torch.Core;
using Invertible.Torch.Persistence;
using Invertible.Torch.Supervised;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>
/// K equilibrium networks evaluated as one batch: member k scores H_k z_k* + c_k + S_k x + s_k with z_k* the
/// equilibrium of its own cell (<see cref="MemberContractiveCell"/> or <see cref="MemberMonotoneCell"/>) on the input x.
/// One fixed-point solve serves all members (their states are rows of one batch), so a training step costs about as
/// many libtorch calls as a single network's.
/// </summary>
public sealed class EquilibriumMembers : nn.Module<Tensor, Tensor>, IMemberModel, ICheckpointable<EquilibriumMembers>
{
    static string ICheckpointable<EquilibriumMembers>.CheckpointKind => "EquilibriumMembers";

    static int ICheckpointable<EquilibriumMembers>.CheckpointVersion => 1;

    JsonObject ICheckpointable<EquilibriumMembers>.CheckpointArguments()
    {
        var arguments = SupervisedArguments.Of(this, Options);
        arguments["members"] = Members;
        return arguments;
    }

    static EquilibriumMembers ICheckpointable<EquilibriumMembers>.FromCheckpoint(JsonObject arguments)
    {
        var (inputs, outputs, task, options) = SupervisedArguments.Read<EquilibriumNetworkOptions>(arguments);
        return new(Checkpoint.Read<int>(arguments, "members"), inputs, outputs, task, options);
    }

    private readonly EquilibriumLayer equilibrium;
    private readonly Parameter head, headBias, skip, skipBias;

    /// <summary>Creates K networks.</summary>
    /// <param name="members">K.</param>
    /// <param name="inputFeatures">Features per row.</param>
    /// <param name="outputs">Classes (multiclass), 1 (binary), or values per row (regression).</param>
    /// <param name="task">What is predicted.</param>
    /// <param name="options">The cell (state width, monotone or contractive with its bound and activation) and the solves;
    /// <see cref="EquilibriumNetworkOptions.InjectionFeatures"/> and <see cref="EquilibriumNetworkOptions.LinearSkip"/> do
    /// not apply (the cells read the input directly; the linear path is always there).</param>
    /// <param name="generator">Random source of the initial weights.</param>
    public EquilibriumMembers(int members, int inputFeatures, int outputs, SupervisedTask task, EquilibriumNetworkOptions? options = null, Generator? generator = null)
        : base(nameof(EquilibriumMembers))
    {
        options ??= new EquilibriumNetworkOptions();
        options.Validate();
        if (members < 1) throw new ArgumentOutOfRangeException(nameof(members), members, "Must be at least 1.");
        task.CheckShape(inputFeatures, outputs);
        (Members, InputFeatures, Outputs, Task, Options) = (members, inputFeatures, outputs, task, options);
        IMemberCell cell = options.Monotone
            ? new MemberMonotoneCell(members, options.StateFeatures, inputFeatures, dtype: options.DType, generator: generator)
            : new MemberContractiveCell(members, options.StateFeatures, inputFeatures, options.Coefficient, options.Activation, options.DType, generator: generator);
        equilibrium = new EquilibriumLayer(cell, options.Equilibrium) { DisplayName = "equilibrium of the members" };
        head = new Parameter(MemberRows.Uniform([members, outputs, options.StateFeatures], options.StateFeatures, options.DType, generator));
        headBias = new Parameter(zeros([members, outputs], dtype: options.DType));
        skip = new Parameter(MemberRows.Uniform([members, outputs, inputFeatures], inputFeatures, options.DType, generator));
        skipBias = new Parameter(zeros([members, outputs], dtype: options.DType));
        RegisterComponents();
    }

    /// <inheritdoc />
    public int Members { get; }

    /// <inheritdoc />
    public int InputFeatures { get; }

    /// <inheritdoc />
    public int Outputs { get; }

    /// <inheritdoc />
    public SupervisedTask Task { get; }

    /// <summary>The architecture.</summary>
    public EquilibriumNetworkOptions Options { get; }

    /// <summary>The equilibrium layer over all members' states.</summary>
    public EquilibriumLayer Layer => equilibrium;

    /// <summary>The members' cells.</summary>
    internal IMemberCell Cell => (IMemberCell)equilibrium.Function;

    /// <summary>H_k [K, outputs, state] and c_k [K, outputs].</summary>
    public (Parameter Weight, Parameter Bias) Head => (head, headBias);

    /// <summary>S_k [K, outputs, features] and s_k [K, outputs].</summary>
    public (Parameter Weight, Parameter Bias) Skip => (skip, skipBias);

    /// <inheritdoc />
    public void InitializeLinear(int member, Tensor weight, Tensor bias)
    {
        if (member < 0 || member >= Members) throw new ArgumentOutOfRangeException(nameof(member), member, $"Must lie in 0…{Members - 1}.");
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        using var _ = no_grad();
        skip[member].copy_(weight);
        skipBias[member].copy_(bias);
        head[member].zero_();
        headBias[member].zero_();
    }

    /// <inheritdoc />
    public SupervisedOutput EvaluateMembers(Tensor input)
    {
        RowInput.Check(input, InputFeatures, nameof(input));
        using var _ = RowInput.Trusted();
        var batch = input.shape[0];
        var rows = input.unsqueeze(0).expand(Members, batch, InputFeatures).reshape(Members * batch, InputFeatures);
        var result = equilibrium.Solve(rows);
        var state = MemberRows.Split(result.State, Members);
        var scores = state.bmm(head.transpose(1, 2)).Add(headBias.unsqueeze(1))
            .Add(MemberRows.Affine(rows, skip, skipBias, Members));
        return new SupervisedOutput(scores, result.Statistics, result.JacobianPenalty);
    }

    /// <inheritdoc />
    public SupervisedOutput Evaluate(Tensor input)
    {
        var output = EvaluateMembers(input);
        return output with { Scores = output.Scores.mean([0]) };
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Evaluate(input).Scores;
}
