using Invertible.Torch.Equilibrium;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Onnx;
using Invertible.Torch.Supervised;
using Invertible.Torch;
using static TorchSharp.torch;

namespace Invertible.Tests.Support;

/// <summary>
/// Float32 models around hard contractions (the aligned block at c = 0.97, a hard equilibrium cell), exported with loops
/// capped at two iterations: far from converged for every row, so the graphs' non-convergence outputs can be checked.
/// </summary>
internal static class HardModels
{
    public const int Features = 6;

    /// <summary>Every fixed-point loop stops after two iterations.</summary>
    public static OnnxExportOptions TwoIterations { get; } = new() { MaxIterations = 2 };

    /// <summary>One aligned block.</summary>
    public static ResidualStack Stack() => new([Blocks.Aligned(Features, 0.97, ScalarType.Float32)]);

    /// <summary>A one-block flow whose residual block carries the aligned block's weights (its ActNorms stay the identity).</summary>
    public static InvertibleResNetFlow Flow()
    {
        var flow = new InvertibleResNetFlow(Features, new InvertibleResNetFlowOptions
        {
            Blocks = 1, HiddenFeatures = Features, Depth = 2, Coefficient = 0.97, Activation = LipschitzActivation.Tanh,
        });
        var (missing, unexpected) = flow.Layers.OfType<ResidualBlock>().Single().load_state_dict(Blocks.Aligned(Features, 0.97, ScalarType.Float32).state_dict());
        Assert.AreEqual(0, missing.Count + unexpected.Count, "the flow's block has the aligned block's architecture");
        flow.eval();
        return flow;
    }

    /// <summary>A multiclass equilibrium network with a hard cell (<see cref="Blocks.MakeHard"/>).</summary>
    public static EquilibriumNetwork Equilibrium()
    {
        var network = new EquilibriumNetwork(Features, 3, SupervisedTask.MulticlassClassification, new EquilibriumNetworkOptions { StateFeatures = 8, InjectionFeatures = 8, Coefficient = 0.9, Activation = LipschitzActivation.Tanh, Equilibrium = new EquilibriumOptions() });
        Blocks.MakeHard((EquilibriumCell)network.Layer.Function);
        network.eval();
        return network;
    }
}
