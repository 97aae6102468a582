using Invertible.Tests.Support;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Onnx;
using Invertible.Torch.Solvers;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Invertible.Torch;
using static TorchSharp.torch;

namespace Invertible.Tests.Onnx;

[TestClass]
public sealed class EquilibriumExportTests
{
    private static readonly FixedPointOptions Tight = new() { Solver = FixedPointSolverKind.Anderson, Tolerance = 1e-7, MaxIterations = 500, ThrowOnNonConvergence = false };

    private static EquilibriumNetwork Trained(SupervisedTask task, bool monotone)
    {
        manual_seed(131);
        var x = randn(600, 5);
        var signal = x.mm(randn(5, 1)).squeeze(1);
        var (outputs, y) = task switch
        {
            SupervisedTask.MulticlassClassification => (3, signal.gt(0.5).to(ScalarType.Int64).add(signal.gt(-0.5).to(ScalarType.Int64))),
            SupervisedTask.BinaryClassification => (1, signal.gt(0).to(ScalarType.Float32)),
            _ => (2, stack([signal, signal.sin()], 1)),
        };
        var network = new EquilibriumNetwork(5, outputs, task, new EquilibriumNetworkOptions { StateFeatures = 16, InjectionFeatures = 16, Monotone = monotone });
        Trainer.Fit(network, [x, y], SupervisedObjective.For(network), new TrainerOptions { Epochs = 3, BatchSize = 64, LearningRate = 5e-3, ValidationFraction = 0 });
        network.Layer.Options = new EquilibriumOptions { Forward = Tight };
        return network;
    }

    [TestMethod]
    public void MonotoneCell_StronglySkewed_ConvergesInOnnxRuntime_WhereItsForwardBackwardMapDoesNot()
    {
        // B − Bᵀ scaled up: the cell's forward–backward step (α = 0.5) is far beyond its guaranteed range; Picard on it
        // never converges (measured here: not in 2 000 iterations). The graph solves by Peaceman–Rachford splitting.
        manual_seed(133);
        var network = new EquilibriumNetwork(5, 3, SupervisedTask.MulticlassClassification, new EquilibriumNetworkOptions { StateFeatures = 16, InjectionFeatures = 16, Monotone = true });
        var cell = (MonotoneCell)network.Layer.Function;
        using (no_grad())
            cell.named_parameters().Single(p => p.name == "b").parameter.mul_(3);
        network.Layer.Options = new EquilibriumOptions { Forward = Tight };
        network.eval();
        var x = randn(256, 5).mul(3);
        Tensor scores;
        using (no_grad())
            scores = network.forward(x);
        var outputs = OnnxRunner.Run(EquilibriumExporter.Export(network, new OnnxExportOptions { Tolerance = 1e-7, MaxIterations = 2000 }), ("x", x));
        Assert.IsTrue(outputs["converged"].all().item<bool>(), $"every row converged ({outputs["converged"].logical_not().sum().ToInt64()} did not)");
        Check.AtMost(outputs["iterations"].max().ToInt64(), 300, "iterations of the splitting");
        Check.TensorsClose(outputs["scores"], scores, 1e-4, "scores vs TorchSharp's tight Anderson solve");
    }

    [TestMethod]
    public void DefaultLoopCap_LetsPicardFinishRowsTheModelsOwnSolverFinishes()
    {
        // The hard contractive cell: the model's Anderson-based solve finishes every row within its cap; the graph's
        // Picard loop needs more iterations than that cap, which the default cap (10×) allows.
        var network = HardModels.Equilibrium();
        const int cap = 20;
        network.Layer.Options = new EquilibriumOptions { Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Adaptive, Tolerance = 1e-5, MaxIterations = cap } };
        var x = randn(64, HardModels.Features, generator: new Generator(5));
        using (no_grad())
            network.forward(x); // throws if a row misses the cap
        var ownCap = OnnxRunner.Run(EquilibriumExporter.Export(network, new OnnxExportOptions { MaxIterations = cap }), ("x", x));
        Check.Less(0, ownCap["converged"].logical_not().sum().ToInt64(), $"rows Picard leaves unconverged at the model's cap of {cap}");
        var byDefault = OnnxRunner.Run(EquilibriumExporter.Export(network), ("x", x));
        Assert.IsTrue(byDefault["converged"].all().item<bool>(), $"every row converges under the default cap ({byDefault["iterations"].max().ToInt64()} iterations at most)");
    }

    [TestMethod]
    [DataRow(SupervisedTask.MulticlassClassification, false)]
    [DataRow(SupervisedTask.BinaryClassification, false)]
    [DataRow(SupervisedTask.Regression, false)]
    [DataRow(SupervisedTask.MulticlassClassification, true)]
    public void Scores_MatchTorchSharp_AtBatch1_7_1024(SupervisedTask task, bool monotone)
    {
        var network = Trained(task, monotone);
        var model = EquilibriumExporter.Export(network, new OnnxExportOptions { Tolerance = 1e-7, MaxIterations = 500 });
        foreach (var batch in new[] { 1, 7, 1024 })
        {
            var x = randn(batch, 5);
            using var _ = no_grad();
            var scores = network.forward(x);
            var outputs = OnnxRunner.Run(model, ("x", x));
            Check.TensorsClose(outputs["scores"], scores, 1e-5, $"{task}{(monotone ? " (monotone)" : "")}, batch {batch}: scores");
            if (task == SupervisedTask.MulticlassClassification)
            {
                Check.TensorsClose(outputs["probabilities"], nn.functional.softmax(scores, 1), 1e-5, "probabilities");
                Check.TensorsClose(outputs["predicted_label"].to(ScalarType.Float32), scores.argmax(1).to(ScalarType.Float32), 0, "labels");
            }
            if (task == SupervisedTask.BinaryClassification)
                Check.TensorsClose(outputs["probability"], sigmoid(scores.squeeze(1)), 1e-5, "probability");
            Assert.IsTrue(outputs["iterations"].min().ToInt64() >= 2, "iterations are reported");
        }
    }

    [TestMethod]
    public void Scores_RowResultDoesNotDependOnItsBatch()
    {
        var network = Trained(SupervisedTask.MulticlassClassification, monotone: false);
        // A loose tolerance: a row stopped by its batch instead of its own rule would move by about 1e-3, not 1e-7.
        var model = EquilibriumExporter.Export(network, new OnnxExportOptions { Tolerance = 1e-3 });
        var x = randn(48, 5).mul(2);
        var batched = OnnxRunner.Run(model, ("x", x));
        Assert.IsTrue(batched["iterations"].max().ToInt64() > batched["iterations"].min().ToInt64(), "rows of the batch need different iteration counts");
        for (var row = 0; row < 48; row += 5)
        {
            var alone = OnnxRunner.Run(model, ("x", x[row..(row + 1)]));
            Check.TensorsClose(alone["scores"], batched["scores"][row..(row + 1)], 1e-6, $"row {row} alone vs inside the batch: scores");
            Assert.AreEqual(batched["iterations"][row].ToInt64(), alone["iterations"][0].ToInt64(), $"row {row}: iterations");
            Check.TensorsClose(alone["residual"], batched["residual"][row..(row + 1)], 1e-6, $"row {row}: residual");
        }
    }

    /// <summary>The convolutional monotone network trained on 1×8×8 images of bars, injected at stride 2 onto 4×4 maps and
    /// pooled 2×2: the graph's circular-convolution resolvent, wrap, strided injection, pooling and head against
    /// TorchSharp's Fourier-domain solve (stride 1 goes through ONNX in the ML.NET trainer's test).</summary>
    [TestMethod]
    public void ConvolutionalMonotoneNetwork_Trained_MatchesTorchSharp_AtBatch1_And33()
    {
        manual_seed(137);
        var image = new Invertible.Torch.Core.ImageShape(1, 8, 8);
        var labels = randint(3, [400], dtype: ScalarType.Int64);
        var bars = zeros(400, 1, 8, 8);
        for (var i = 0; i < 400; i++)
        {
            var position = (int)(i % 8);
            var kind = labels[i].ToInt64();
            if (kind == 0) bars[i, 0, position, ..] = tensor(1f);
            else if (kind == 1) bars[i, 0, .., position] = tensor(1f);
        }
        var x = bars.flatten(1).add(randn(400, 64).mul(0.3));
        var network = new EquilibriumNetwork(64, 3, SupervisedTask.MulticlassClassification,
            new EquilibriumNetworkOptions { Image = image, StateChannels = 4, Stride = 2, Pooling = 2 });
        Trainer.Fit(network, [x, labels], SupervisedObjective.For(network), new TrainerOptions { Epochs = 4, BatchSize = 32, LearningRate = 1e-2, ValidationFraction = 0 });
        network.Layer.Options = new EquilibriumOptions { Forward = Tight };
        network.eval();
        var model = EquilibriumExporter.Export(network, new OnnxExportOptions { Tolerance = 1e-7, MaxIterations = 500 });
        foreach (var batch in new[] { 1, 33 })
        {
            var rows = x[..batch];
            Tensor scores;
            using (no_grad())
                scores = network.forward(rows);
            var outputs = OnnxRunner.Run(model, ("x", rows));
            Assert.IsTrue(outputs["converged"].all().item<bool>(), $"batch {batch}: every row converged");
            Check.TensorsClose(outputs["scores"], scores, 1e-4, $"batch {batch}: scores");
        }
        using (no_grad())
        {
            var accuracy = network.forward(x).argmax(1).eq(labels).to(ScalarType.Float32).mean().ToSingle();
            Check.Less(0.8, accuracy, "training accuracy on the bars (the network must have learned for the parity to mean something)");
        }
    }

    [TestMethod]
    public void ImageOption_RowsOfAnotherSize_AreNamed()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => new EquilibriumNetwork(35, 3, SupervisedTask.MulticlassClassification,
            new EquilibriumNetworkOptions { Image = new Invertible.Torch.Core.ImageShape(1, 6, 6) }));
        StringAssert.Contains(error.Message, "1×6×6 = 36");
        StringAssert.Contains(error.Message, "35 features");
    }
}
