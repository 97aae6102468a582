using System.Security.Cryptography;
using System.Text;
using Invertible.Tests.Support;
using Invertible.Torch.Data;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Persistence;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using Invertible.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Tests.Checkpoints;

[TestClass]
public sealed class CheckpointTests
{
    private static InvertibleResNetFlow TrainedFlow(bool linear = true)
    {
        manual_seed(201);
        var data = ToyDensities.TwoMoons(600, new Generator(2));
        var flow = new InvertibleResNetFlow(2, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 16, InvertibleLinear = linear });
        Trainer.Fit(flow, [data], (batch, _) => flow.LogProb(batch[0]).mean().neg(), new TrainerOptions { Epochs = 3, BatchSize = 100, LearningRate = 2e-2, ValidationFraction = 0 });
        return flow;
    }

    private static byte[] Bytes(nn.Module model)
    {
        using var stream = new MemoryStream();
        Checkpoint.Save(model, stream);
        return stream.ToArray();
    }

    [TestMethod]
    public void Flow_ReloadsWithBitIdenticalOutputs_AndEveryBufferRestored()
    {
        var flow = TrainedFlow();
        var lipSwish = flow.modules().OfType<LipSwish>().First();
        Assert.AreNotEqual(1.0, lipSwish.Beta, 1e-4, "training moved β, so the raw parameter is part of what is checked");
        Assert.IsTrue(flow.Layers.OfType<ActNorm>().All(a => a.IsInitialized), "ActNorm initialised by training");
        var loaded = Checkpoint.Load<InvertibleResNetFlow>(Bytes(flow));

        Assert.IsFalse(loaded.training, "saved in evaluation mode, loaded in evaluation mode");
        var expected = flow.state_dict();
        foreach (var (name, tensor) in loaded.state_dict())
            Check.Identical(tensor, expected[name], $"tensor {name} restored");
        var x = ToyDensities.TwoMoons(50, new Generator(3));
        using var _ = no_grad();
        Check.Identical(loaded.LogProb(x), flow.LogProb(x), "log-likelihoods");
        var (latent, _) = flow.forward(x);
        Check.Identical(loaded.Inverse(latent), flow.Inverse(latent), "inverses");
        Assert.AreEqual(flow.Options.Inverse.Forward.AbsoluteTolerance, loaded.Options.Inverse.Forward.AbsoluteTolerance, "options travel with the weights");
    }

    [TestMethod]
    public void Flow_ContinuesTrainingExactlyAsTheOriginalWould()
    {
        var flow = TrainedFlow(linear: false);
        var loaded = Checkpoint.Load<InvertibleResNetFlow>(Bytes(flow));
        var data = ToyDensities.TwoMoons(200, new Generator(4));
        var options = new TrainerOptions { Epochs = 2, BatchSize = 50, LearningRate = 1e-2, ValidationFraction = 0, Seed = 9 };
        var original = Trainer.Fit(flow, [data], (batch, _) => flow.LogProb(batch[0]).mean().neg(), options);
        var resumed = Trainer.Fit(loaded, [data], (batch, _) => loaded.LogProb(batch[0]).mean().neg(), options);
        Check.Close(resumed.Last.TrainLoss, original.Last.TrainLoss, 1e-6, "training loss after two more epochs");
        var expected = flow.state_dict();
        foreach (var (name, tensor) in loaded.state_dict())
            Check.TensorsClose(tensor, expected[name], 1e-5, $"tensor {name} after continued training");
    }

    [TestMethod]
    public void EquilibriumNetwork_ReloadsWithBitIdenticalScores_InTheModeItWasSavedIn()
    {
        manual_seed(202);
        var x = randn(300, 5);
        var y = x.sum(1).gt(0).to(ScalarType.Int64).add(x[.., 0].gt(1).to(ScalarType.Int64));
        var network = new EquilibriumNetwork(5, 3, SupervisedTask.MulticlassClassification, new EquilibriumNetworkOptions { StateFeatures = 12, InjectionFeatures = 8 });
        Trainer.Fit(network, [x, y], SupervisedObjective.For(network), new TrainerOptions { Epochs = 2, BatchSize = 50, ValidationFraction = 0 });
        network.train();
        var loaded = Checkpoint.Load<EquilibriumNetwork>(Bytes(network));
        Assert.IsTrue(loaded.training, "saved in training mode, loaded in training mode");
        network.eval();
        loaded.eval();
        using var _ = no_grad();
        Check.Identical(loaded.forward(x), network.forward(x), "scores");
        Assert.AreEqual(SupervisedTask.MulticlassClassification, loaded.Task);
        Assert.AreEqual(12, loaded.Options.StateFeatures);
    }

    [TestMethod]
    public void StateDicts_NameEveryTensorOnce_InsideFlowsStacksAndNetworks()
    {
        manual_seed(205);
        var models = new (string Name, nn.Module Model)[]
        {
            ("flow", new InvertibleResNetFlow(3, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 8, Depth = 3, Coefficient = 0.97, InvertibleLinear = true })),
            ("stack of a generic and a fused block", new ResidualStack([new ResidualBlock(3), new FusedResidualBlock(3, 8)])),
            ("equilibrium network", new EquilibriumNetwork(3, 2, SupervisedTask.MulticlassClassification, new EquilibriumNetworkOptions { StateFeatures = 4, InjectionFeatures = 4 })),
            ("monotone equilibrium network", new EquilibriumNetwork(3, 1, SupervisedTask.BinaryClassification, new EquilibriumNetworkOptions { StateFeatures = 4, InjectionFeatures = 4, Monotone = true })),
            ("LipSwish equilibrium network", new EquilibriumNetwork(3, 1, SupervisedTask.Regression, new EquilibriumNetworkOptions { StateFeatures = 4, InjectionFeatures = 4, Activation = LipschitzActivation.LipSwish })),
            ("i-ResNet classifier", new InvertibleResNetClassifier(3, 2, SupervisedTask.MulticlassClassification)),
            ("convolutional equilibrium network", new EquilibriumNetwork(16, 2, SupervisedTask.MulticlassClassification, new EquilibriumNetworkOptions { Image = new Invertible.Torch.Core.ImageShape(1, 4, 4), StateChannels = 2 })),
        };
        foreach (var (name, model) in models)
        {
            var entries = model.state_dict();
            var twice = entries.GroupBy(e => e.Value.Handle).Where(g => g.Count() > 1).Select(g => string.Join(" = ", g.Select(e => e.Key))).ToList();
            Assert.AreEqual(0, twice.Count, $"{name}: tensors under two names ({string.Join("; ", twice)}), saved twice in every checkpoint");
        }

        // So a block's weights move between a standalone block and the same block inside a flow, both ways.
        var flow = (InvertibleResNetFlow)models[0].Model;
        var inside = flow.Layers.OfType<ResidualBlock>().First();
        var standalone = new ResidualBlock(3, new ResidualBlockOptions { HiddenFeatures = 8, Depth = 3, Coefficient = 0.97 });
        var (missing, unexpected) = inside.load_state_dict(standalone.state_dict());
        Assert.AreEqual(0, missing.Count + unexpected.Count, "standalone → inside a flow");
        (missing, unexpected) = standalone.load_state_dict(inside.state_dict());
        Assert.AreEqual(0, missing.Count + unexpected.Count, "inside a flow → standalone");
    }

    [TestMethod]
    public void ConvolutionalEquilibriumNetwork_ReloadsWithItsImageShapeAndIdenticalScores()
    {
        manual_seed(206);
        var options = new EquilibriumNetworkOptions { Image = new Invertible.Torch.Core.ImageShape(2, 4, 6), StateChannels = 3, Pooling = 2 };
        var network = new EquilibriumNetwork(48, 3, SupervisedTask.MulticlassClassification, options);
        using (no_grad())
            foreach (var p in network.parameters())
                p.add_(randn_like(p).mul(0.1));
        var loaded = Checkpoint.Load<EquilibriumNetwork>(Bytes(network));
        Assert.AreEqual(options.Image, loaded.Options.Image);
        Assert.AreEqual(2, loaded.Pooling);
        network.eval();
        loaded.eval();
        var x = randn(5, 48);
        using var _ = no_grad();
        Check.Identical(loaded.forward(x), network.forward(x), "scores");
    }

    [TestMethod]
    public void EveryTruncationAndEveryByteFlip_FailsWithCheckpointException()
    {
        var bytes = Bytes(TrainedFlow());
        var random = new Random(7);
        for (var i = 0; i < 100; i++)
        {
            var truncated = bytes[..random.Next(bytes.Length)];
            var e = Assert.ThrowsExactly<CheckpointException>(() => Checkpoint.Load(truncated), $"truncation to {truncated.Length} bytes");
            Assert.IsFalse(string.IsNullOrEmpty(e.Message));
        }
        for (var i = 0; i < 100; i++)
        {
            var flipped = (byte[])bytes.Clone();
            var at = random.Next(flipped.Length);
            flipped[at] ^= (byte)(1 << random.Next(8));
            Assert.ThrowsExactly<CheckpointException>(() => Checkpoint.Load(flipped), $"a bit flipped at byte {at}");
        }
    }

    /// <summary>A file with a valid hash but a header this library cannot honour (rewritten by hand, then rehashed).</summary>
    private static byte[] Rewritten(byte[] bytes, Func<string, string> edit)
    {
        var headerLength = BitConverter.ToInt32(bytes, 12);
        var header = edit(Encoding.UTF8.GetString(bytes, 16, headerLength));
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var body = bytes[..12].Concat(BitConverter.GetBytes(headerBytes.Length)).Concat(headerBytes).Concat(bytes[(16 + headerLength)..^32]).ToArray();
        return body.Concat(SHA256.HashData(body)).ToArray();
    }

    [TestMethod]
    public void WellFormedButWrongHeaders_AreRejectedWithTheReason()
    {
        var bytes = Bytes(TrainedFlow());
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => Checkpoint.Load(Rewritten(bytes, h => h.Replace("\"InvertibleResNetFlow\"", "\"System.Diagnostics.Process\"")))).Message,
            "Unknown model kind 'System.Diagnostics.Process'");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => Checkpoint.Load(Rewritten(bytes, h => h.Replace("\"kindVersion\":1", "\"kindVersion\":9")))).Message,
            "version 9");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => Checkpoint.Load(Rewritten(bytes, h => h.Replace("\"features\":2", "\"features\":3")))).Message,
            "in the checkpoint but");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => Checkpoint.Load<EquilibriumNetwork>(bytes)).Message, "not a EquilibriumNetwork");
    }

    [TestMethod]
    public void UnregisteredModel_CannotBeSaved_AndSaveToAFileIsAtomic()
    {
        var stack = ResidualStack.Create(3, 2);
        Assert.ThrowsExactly<NotSupportedException>(() => Checkpoint.Save(stack, new MemoryStream()));
        var path = Path.Combine(Path.GetTempPath(), $"invertible-{Guid.NewGuid():N}.ckpt");
        File.WriteAllText(path, "previous contents");
        try
        {
            Assert.ThrowsExactly<NotSupportedException>(() => Checkpoint.Save(stack, path));
            Assert.AreEqual("previous contents", File.ReadAllText(path), "a failed save leaves the old file untouched");
            Assert.AreEqual(1, Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*").Length + Directory.GetFiles(Path.GetTempPath(), $".{Path.GetFileName(path)}.*").Length,
                "and no temporary file behind");
            var flow = TrainedFlow();
            Checkpoint.Save(flow, path);
            Assert.IsInstanceOfType<InvertibleResNetFlow>(Checkpoint.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
