using Invertible.Tests.Support;
using Invertible.Torch;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Onnx;
using Invertible.Torch.Solvers;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Tests.Supervised;

/// <summary>K equilibrium networks as one batch: independent members, exact gradients, ONNX parity, checkpoints.</summary>
[TestClass]
public sealed class EquilibriumMembersTests
{
    private static readonly FixedPointOptions Tight = new() { Solver = FixedPointSolverKind.Anderson, Tolerance = 1e-7, MaxIterations = 500 };
    private static readonly FixedPointOptions Exact = new() { Solver = FixedPointSolverKind.Anderson, Tolerance = 1e-13, MaxIterations = 5000 };

    private static EquilibriumMembers Members(bool monotone, SupervisedTask task = SupervisedTask.MulticlassClassification, int outputs = 3,
        ScalarType dtype = ScalarType.Float32, LipschitzActivation activation = LipschitzActivation.Tanh)
        => new(3, 5, outputs, task, new EquilibriumNetworkOptions
        {
            StateFeatures = 8, Monotone = monotone, Activation = activation, DType = dtype,
            Equilibrium = dtype == ScalarType.Float64 ? new EquilibriumOptions { Forward = Exact, Adjoint = Exact } : new EquilibriumOptions { Forward = Tight, Adjoint = Tight },
        }, new Generator(7));

    /// <summary>Each member is a network of its own: changing member 1's weights moves member 1's scores only.</summary>
    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Members_AreIndependent(bool monotone)
    {
        var model = Members(monotone);
        model.eval();
        var x = randn(6, 5, generator: new Generator(1));
        using var _ = no_grad();
        var before = model.EvaluateMembers(x).Scores.clone();
        foreach (var parameter in model.parameters())
            if (parameter.dim() >= 2)
                parameter[1].add_(randn_like(parameter[1]).mul(0.3));
        var after = model.EvaluateMembers(x).Scores;
        // Equal to the solve's tolerance: the solver's stopping and Anderson's regularisation look at the whole batch.
        Check.TensorsClose(after[0], before[0], 1e-5, "member 0 after member 1 changed");
        Check.TensorsClose(after[2], before[2], 1e-5, "member 2 after member 1 changed");
        Assert.IsTrue(after[1].sub(before[1]).abs().max().ToDouble() > 1e-3, "member 1 moved");
    }

    /// <summary>
    /// The implicit gradient of every parameter against central differences, in float64 (both cells, LipSwish's β too),
    /// with a step small enough that no ReLU of the monotone cell changes side within it.
    /// </summary>
    [TestMethod]
    [DataRow(false, LipschitzActivation.LipSwish)]
    [DataRow(false, LipschitzActivation.Tanh)]
    [DataRow(true, LipschitzActivation.Tanh)]
    public void Gradients_MatchFiniteDifferences_Float64(bool monotone, LipschitzActivation activation)
    {
        var model = Members(monotone, dtype: ScalarType.Float64, activation: activation);
        // Evaluation mode: the contractive cell's normalisation is then exact and deterministic between the evaluations.
        model.eval();
        var x = randn(4, 5, dtype: ScalarType.Float64, generator: new Generator(2));
        var weights = randn(3, 4, 3, dtype: ScalarType.Float64, generator: new Generator(3));
        Tensor Loss() => model.EvaluateMembers(x).Scores.mul(weights).sum();
        var parameters = model.parameters().Where(p => p.requires_grad).ToArray();
        var gradients = autograd.grad([Loss()], parameters);
        using var _ = no_grad();
        FiniteDifferences.CheckDirectionalDerivatives(parameters, [.. gradients], () => Loss().ToDouble(), 1e-6, 1e-6, monotone ? "monotone members" : $"contractive members ({activation})");
    }

    /// <summary>The exported graph against TorchSharp at batches 1 and 33, after a few training steps, every task and cell.</summary>
    [TestMethod]
    [DataRow(false, SupervisedTask.MulticlassClassification, 3)]
    [DataRow(true, SupervisedTask.MulticlassClassification, 3)]
    [DataRow(false, SupervisedTask.BinaryClassification, 1)]
    [DataRow(true, SupervisedTask.Regression, 2)]
    public void Onnx_MatchesTorchSharp(bool monotone, SupervisedTask task, int outputs)
    {
        var model = Members(monotone, task, outputs);
        Train(model, task, outputs);
        model.eval();
        foreach (var batch in new[] { 1, 33 })
        {
            var x = randn(batch, 5, generator: new Generator((ulong)batch)).mul(2);
            Tensor scores;
            using (no_grad())
                scores = model.forward(x);
            var graph = OnnxRunner.Run(SupervisedExporter.Export(model, new OnnxExportOptions { Tolerance = 1e-6 }), ("x", x));
            Check.TensorsClose(graph["scores"], scores, 2e-5, $"scores at batch {batch}");
            Assert.IsTrue(graph["converged"].all().item<bool>(), "every row converged in the graph");
            Assert.AreEqual(batch, graph["iterations"].shape[0], "one iteration count per row");
        }
    }

    private static void Train(EquilibriumMembers model, SupervisedTask task, int outputs)
    {
        var generator = new Generator(11);
        var x = randn(64, 5, generator: generator);
        var signal = x.mm(randn(5, 1, generator: generator)).squeeze(1);
        var y = task switch
        {
            SupervisedTask.MulticlassClassification => signal.gt(0.5).to(ScalarType.Int64).add(signal.gt(-0.5).to(ScalarType.Int64)),
            SupervisedTask.BinaryClassification => signal.gt(0).to(ScalarType.Float32),
            _ => stack([signal, signal.sin()], 1),
        };
        var optimizer = optim.Adam(model.parameters(), 1e-2);
        for (var step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var scores = model.EvaluateMembers(x).Scores;
            var loss = SupervisedObjective.Loss(task, scores.reshape(-1, outputs), task == SupervisedTask.Regression ? y.repeat(3, 1) : y.repeat(3));
            loss.backward();
            optimizer.step();
        }
    }
}
