using Invertible.Tests.Support;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Onnx;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Tests.Onnx;

[TestClass]
public sealed class ResidualStackExportTests
{
    private static ResidualStack Stack(LipschitzActivation activation)
    {
        manual_seed(111);
        var stack = ResidualStack.Create(8, 3, new ResidualBlockOptions { HiddenFeatures = 32, Coefficient = 0.9, Activation = activation });
        // A few training steps so that the exported weights are not the initial ones.
        var optimizer = optim.Adam(stack.parameters(), 1e-2);
        for (var i = 0; i < 20; i++)
        {
            optimizer.zero_grad();
            stack.forward(randn(64, 8)).square().mean().backward();
            optimizer.step();
        }
        stack.eval();
        return stack;
    }

    [TestMethod]
    [DataRow(LipschitzActivation.LipSwish)]
    [DataRow(LipschitzActivation.Elu)]
    [DataRow(LipschitzActivation.Tanh)]
    public void ForwardAndInverse_MatchTorchSharp_AtBatch1_7_1024(LipschitzActivation activation)
    {
        var stack = Stack(activation);
        var forward = ResidualStackExporter.ExportForward(stack);
        var inverse = ResidualStackExporter.ExportInverse(stack);
        foreach (var batch in new[] { 1, 7, 1024 })
        {
            var x = randn(batch, 8);
            using var _ = no_grad();
            var y = stack.forward(x);
            Check.TensorsClose(OnnxRunner.Run(forward, ("x", x))["y"], y, 1e-5, $"{activation}, batch {batch}: forward");
            var outputs = OnnxRunner.Run(inverse, ("y", y));
            var torchInverse = stack.Inverse(y, ImplicitOptions.Both(new FixedPointOptions { Solver = FixedPointSolverKind.Picard }));
            // Two float32 solves that each stop at relative residual 1e-6 agree to about that times |x| (up to 4 here at batch 1024).
            Check.TensorsClose(outputs["x"], torchInverse, 1e-5 * Math.Max(1, x.abs().max().ToDouble()), $"{activation}, batch {batch}: inverse vs TorchSharp");
            Check.TensorsClose(outputs["x"], x, 1e-4, $"{activation}, batch {batch}: inverse vs the original input");
            Check.AtMost(outputs["residual"].max().ToDouble(), 1e-6, "every row converged");
            Assert.IsTrue(outputs["iterations"].min().ToInt64() >= 3, "iterations are reported per row");
        }
    }

    /// <summary>The Anderson loop against the Picard loop (the default) on the hard aligned block: the same solution as
    /// TorchSharp, every row converged, in under half of Picard's iterations.</summary>
    [TestMethod]
    public void AndersonLoop_OnAHardBlock_MatchesTorchSharp_InUnderHalfPicardsIterations()
    {
        manual_seed(37);
        var stack = HardModels.Stack();
        var x = randn(16, HardModels.Features);
        Tensor y, expected;
        using (no_grad())
        {
            y = stack.forward(x);
            expected = stack.Inverse(y, ImplicitOptions.Both(new FixedPointOptions { Solver = FixedPointSolverKind.Anderson, Tolerance = 1e-6 }));
        }
        var iterations = new Dictionary<OnnxLoopSolver, long>();
        foreach (var solver in Enum.GetValues<OnnxLoopSolver>())
        {
            var model = ResidualStackExporter.ExportInverse(stack, new OnnxExportOptions { Solver = solver });
            Assert.AreEqual(solver.ToString(), model.Metadata()["invertible.solver"]);
            var outputs = OnnxRunner.Run(model, ("y", y));
            Assert.IsTrue(outputs["converged"].all().item<bool>(), $"{solver}: every row converged");
            Check.TensorsClose(outputs["x"], expected, 1e-5 * Math.Max(1, x.abs().max().ToDouble()), $"{solver}: inverse vs TorchSharp");
            iterations[solver] = outputs["iterations"].max().ToInt64();
        }
        Check.Less(iterations[OnnxLoopSolver.Anderson], 0.5 * iterations[OnnxLoopSolver.Picard], $"Anderson's iterations (Picard: {iterations[OnnxLoopSolver.Picard]})");
    }

    [TestMethod]
    public void Inverse_RowResultDoesNotDependOnItsBatch()
    {
        var stack = Stack(LipschitzActivation.LipSwish);
        var inverse = ResidualStackExporter.ExportInverse(stack);
        var y = randn(64, 8).mul(3);
        var batched = OnnxRunner.Run(inverse, ("y", y))["x"];
        for (var row = 0; row < 64; row += 9)
            Check.TensorsClose(OnnxRunner.Run(inverse, ("y", y[row..(row + 1)]))["x"], batched[row..(row + 1)], 1e-6, $"row {row} alone vs inside the batch");
    }

    [TestMethod]
    public void EveryOpset_17To26_MatchesTorchSharp()
    {
        var stack = Stack(LipschitzActivation.LipSwish);
        var x = randn(5, 8);
        Tensor y, inverse;
        using (no_grad())
        {
            y = stack.forward(x);
            inverse = stack.Inverse(y, ImplicitOptions.Both(new FixedPointOptions { Solver = FixedPointSolverKind.Picard }));
        }
        foreach (var opset in Enumerable.Range(17, 10))
        {
            var options = new OnnxExportOptions { Opset = opset };
            Check.TensorsClose(OnnxRunner.Run(ResidualStackExporter.ExportForward(stack, options), ("x", x))["y"], y, 1e-5, $"opset {opset}: forward vs TorchSharp");
            Check.TensorsClose(OnnxRunner.Run(ResidualStackExporter.ExportInverse(stack, options), ("y", y))["x"], inverse, 1e-5, $"opset {opset}: inverse vs TorchSharp");
        }
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ResidualStackExporter.ExportForward(stack, new OnnxExportOptions { Opset = 27 }));
    }

    [TestMethod]
    public void Metadata_DescribesTheModel()
    {
        var metadata = ResidualStackExporter.ExportInverse(Stack(LipschitzActivation.Tanh), new OnnxExportOptions { Tolerance = 1e-5, MaxIterations = 77 }).Metadata();
        Assert.AreEqual("residual-stack-inverse", metadata["invertible.kind"]);
        Assert.AreEqual("1E-05", metadata["invertible.tolerance"]);
        Assert.AreEqual("77", metadata["invertible.max_iterations"]);
        Assert.AreEqual("0", metadata["invertible.absolute_tolerance"], "the stack's own absolute tolerance (none)");
        StringAssert.Contains(metadata["invertible.stopping_rule"], "absolute_tolerance");
    }
}
