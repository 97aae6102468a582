using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using Invertible.Torch.Persistence;
using Invertible.Torch.Supervised;
using Invertible.Torch.Training;
using static TorchSharp.torch;

namespace Invertible.Tests.Supervised;

/// <summary>
/// The i-ResNet classifier on image rows (<see cref="InvertibleResNetClassifierOptions.Image"/>): convolutional blocks
/// on the input padded with zero channels, trained on generated images, saved, exported.
/// </summary>
[TestClass]
public sealed class ConvolutionalClassifierTests
{
    private static readonly ImageShape Image = new(1, 6, 6);

    /// <summary>Images of a horizontal (class 0) or vertical (class 1) bar at a random position, in noise.</summary>
    private static (Tensor X, Tensor Y) Bars(int count, int seed)
    {
        var generator = new Generator((ulong)seed);
        var x = randn(count, 1, 6, 6, generator: generator).mul(0.3);
        var y = randint(0, 2, [count], generator: generator);
        var position = randint(0, 6, [count], generator: generator);
        for (var i = 0; i < count; i++)
        {
            var p = position[i].ToInt64();
            if (y[i].ToInt64() == 0)
                x[i, 0, p, ..].add_(1.5);
            else
                x[i, 0, .., p].add_(1.5);
        }
        return (x.flatten(1), y);
    }

    private static InvertibleResNetClassifier Model(int seed, int headHidden = 0, int? inputSqueezes = null) => new(Image.Size, 2, SupervisedTask.MulticlassClassification,
        new InvertibleResNetClassifierOptions { Image = Image, Width = 2 * Image.Size, Blocks = 2, HiddenFeatures = 8, HeadHidden = headHidden, InputSqueezes = inputSqueezes },
        new Generator((ulong)seed));

    private static ImageShape[] BlockImages(InvertibleResNetClassifier model) => [.. model.FeatureMap.Layers.OfType<ResidualBlockBase>().Select(b => b.Residual.Image!)];

    [TestMethod]
    public void InputSqueezes_ByDefault_StopAt256Pixels()
    {
        InvertibleResNetClassifier Built(ImageShape image, int? squeezes = null) => new(image.Size, 3, SupervisedTask.MulticlassClassification,
            new InvertibleResNetClassifierOptions { Image = image, Width = 2 * image.Size, Blocks = 2, HiddenFeatures = 2, InputSqueezes = squeezes });
        var fashion = Built(new ImageShape(1, 28, 28));
        Assert.IsInstanceOfType<SpaceToDepth>(fashion.FeatureMap.Layers[1], "after the ActNorm, a squeeze before any block");
        CollectionAssert.AreEqual(new[] { new ImageShape(8, 14, 14), new ImageShape(32, 7, 7) }, BlockImages(fashion), "28×28 (784 pixels) squeezed once");
        CollectionAssert.AreEqual(new[] { new ImageShape(8, 16, 16), new ImageShape(32, 8, 8) }, BlockImages(Built(new ImageShape(1, 32, 32))),
            "32×32 squeezed once: 16×16 has 256 pixels");
        CollectionAssert.AreEqual(new[] { new ImageShape(2, 8, 8), new ImageShape(8, 4, 4) }, BlockImages(Built(new ImageShape(1, 8, 8))), "8×8 not squeezed");
        CollectionAssert.AreEqual(new[] { new ImageShape(2, 28, 28), new ImageShape(8, 14, 14) }, BlockImages(Built(new ImageShape(1, 28, 28), 0)), "InputSqueezes = 0 keeps 28×28");
        var tooMany = Assert.ThrowsExactly<ArgumentException>(() => Built(new ImageShape(1, 28, 28), 3));
        Assert.AreEqual(nameof(InvertibleResNetClassifierOptions.InputSqueezes), tooMany.ParamName);
        StringAssert.Contains(tooMany.Message, "2×28×28 allows 2");
    }

    [TestMethod]
    public void LearnsBarOrientation_WhichNoLinearModelCanAtEveryPosition()
    {
        manual_seed(1);
        var (x, y) = Bars(600, 1);
        var (testX, testY) = Bars(300, 2);
        var model = Model(1);
        CollectionAssert.AreEqual(new[] { new ImageShape(2, 6, 6), new ImageShape(8, 3, 3) }, model.FeatureMap.Layers.OfType<ResidualBlockBase>().Select(b => b.Residual.Image).ToArray(),
            "convolutional blocks on the input padded with one zero channel, then on it squeezed (two scales)");
        Trainer.Fit(model, [x, y], SupervisedObjective.For(model), new TrainerOptions { Epochs = 30, BatchSize = 50, LearningRate = 1e-2, ValidationFraction = 0, Seed = 1 });
        model.eval();
        using var _ = no_grad();
        var accuracy = model.forward(testX).argmax(1).eq(testY).to(ScalarType.Float32).mean().ToDouble();
        Check.Less(0.95, accuracy, "test accuracy on bar orientation");
    }

    [TestMethod]
    [DataRow(0, null, 1, DisplayName = "linear head, squeeze between the scales")]
    [DataRow(5, 1, 1, DisplayName = "ReLU head, the squeeze before the blocks (3×3 maps leave one scale)")]
    public void LinearStart_IsTheLinearModelExactly_ThroughTheSqueezes(int headHidden, int? inputSqueezes, int squeezes)
    {
        var model = Model(3, headHidden, inputSqueezes);
        Assert.AreEqual(squeezes, model.FeatureMap.Layers.OfType<SpaceToDepth>().Count(), "squeezes");
        if (model.HeadMlp is { } mlp)
            using (no_grad())
                mlp.Output.weight!.normal_(generator: new Generator(6));
        var weight = randn(2, Image.Size, generator: new Generator(4));
        var bias = randn(2, generator: new Generator(5));
        model.InitializeLinear(weight, bias);
        var x = randn(7, Image.Size);
        using var _ = no_grad();
        Check.TensorsClose(model.forward(x), x.mm(weight.t()).add(bias), 1e-5, "scores of the linear start = x Wᵀ + b");
    }

    [TestMethod]
    [DataRow(0, null, DisplayName = "linear head")]
    [DataRow(6, 1, DisplayName = "ReLU head, input squeeze")]
    public void Checkpoint_AndOnnx_GiveTheTrainedScores(int headHidden, int? inputSqueezes)
    {
        manual_seed(2);
        var (x, y) = Bars(200, 3);
        var model = Model(2, headHidden, inputSqueezes);
        Trainer.Fit(model, [x, y], SupervisedObjective.For(model), new TrainerOptions { Epochs = 3, BatchSize = 50, LearningRate = 1e-2, ValidationFraction = 0, Seed = 2 });
        model.eval();
        if (model.HeadMlp is { } mlp)
            Check.Less(0.01, mlp.Output.weight!.abs().max().ToDouble(), "the ReLU head trained away from its zero start");
        var loaded = (InvertibleResNetClassifier)Checkpoint.Load(Checkpoint.ToBytes(model));
        Assert.AreEqual(Image, loaded.Options.Image, "the image shape survives the checkpoint");
        var graph = SupervisedExporter.Export(model);
        foreach (var batch in new[] { 1, 33 })
        {
            var rows = Bars(batch, 10 + batch).X;
            Tensor scores;
            using (no_grad())
                scores = model.forward(rows);
            using (no_grad())
                Check.TensorsClose(loaded.forward(rows), scores, 0, $"batch {batch}: loaded checkpoint");
            Check.TensorsClose(OnnxRunner.Run(graph, ("x", rows))["scores"], scores, 1e-4, $"batch {batch}: ONNX (Conv) vs TorchSharp");
        }
    }

    [TestMethod]
    public void ImageShapes_ThatDoNotFitTheRows_AreNamed()
    {
        var wrongSize = Assert.ThrowsExactly<ArgumentException>(() => new InvertibleResNetClassifier(35, 2, SupervisedTask.MulticlassClassification,
            new InvertibleResNetClassifierOptions { Image = Image }));
        StringAssert.Contains(wrongSize.Message, "1×6×6 holds 36 values, but rows have 35 features");
        var wrongWidth = Assert.ThrowsExactly<ArgumentException>(() => new InvertibleResNetClassifier(36, 2, SupervisedTask.MulticlassClassification,
            new InvertibleResNetClassifierOptions { Image = Image, Width = 50 }));
        StringAssert.Contains(wrongWidth.Message, "multiple of the image's 6×6 = 36 pixels");
        var model = Model(3);
        var rows = Assert.ThrowsExactly<ArgumentException>(() => model.forward(randn(2, 30)));
        Assert.AreEqual("input", rows.ParamName);
    }
}
