using Invertible.ML.Trainers;
using Invertible.Tests.Support;
using Invertible.Torch;
using Invertible.Torch.Flows;
using Invertible.Torch.Supervised;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Tests.ML;

[TestClass]
public sealed class SupervisedTrainerTests
{
    /// <summary>Three classes on a curved boundary in 5 features: a linear model cannot separate them fully.</summary>
    private static (IDataView Train, IDataView Test) ThreeClasses(MLContext context, int rows = 600)
    {
        var generator = new TorchSharp.torch.Generator(11);
        var x = randn([rows, 5], generator: generator);
        var radius = x[.., 0].square().add(x[.., 1].square()).sqrt();
        var label = radius.lt(0.8).to(ScalarType.Int64).add(radius.lt(1.6).to(ScalarType.Int64));
        var names = label.data<long>().ToArray().Select(l => new[] { "outer", "middle", "inner" }[l]).ToArray();
        var all = MlData.From(context, x.mul(3).add(1), names);
        var split = context.Data.TrainTestSplit(all, 0.25, seed: 1);
        return (split.TrainSet, split.TestSet);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void MulticlassDeepEquilibrium_InAPipeline_EvaluatesPredictsAndMapsKeysBack(bool monotone)
    {
        var context = new MLContext(seed: 3);
        var (train, test) = ThreeClasses(context);
        var pipeline = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.NormalizeMeanVariance("Features"))
            .Append(context.MulticlassClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { Epochs = 30, StateFeatures = 32, LearningRate = 1e-2, TrainingNoise = 0, Monotone = monotone }))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel"));
        var model = pipeline.Fit(train);
        var scored = model.Transform(test);
        var metrics = context.MulticlassClassification.Evaluate(scored);
        Console.WriteLine($"accuracy {metrics.MicroAccuracy:F3}");
        Check.Less(0.85, metrics.MicroAccuracy, "test accuracy");
        var predicted = scored.GetColumn<string>("PredictedText").ToArray();
        var truth = test.GetColumn<string>("Label").ToArray();
        Check.Less(0.85, predicted.Zip(truth).Count(p => p.First == p.Second) / (double)truth.Length, "accuracy of the mapped-back labels");
    }

    [TestMethod]
    public void TimeBudget_ReachesTheTrainingLoop()
    {
        var context = new MLContext(seed: 3);
        var (train, _) = ThreeClasses(context);
        // A budget of a microsecond is spent after one epoch (or before it): exactly one runs.
        var model = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.MulticlassClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { Epochs = 30, StateFeatures = 16, TimeBudget = TimeSpan.FromTicks(10), EarlyStoppingPatience = 0 }))
            .Fit(train);
        var report = model.LastTransformer.TrainingReport!;
        Assert.IsTrue(report.StoppedByTimeBudget && report.History.Count == 1, $"{report.History.Count} of 30 epochs ran");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.MulticlassClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { TimeBudget = TimeSpan.FromSeconds(-1) }));
    }

    /// <summary>
    /// The image defaults of the i-ResNet trainer: a ReLU layer of 128 in the head and Adam at 1e-3, unless the caller set
    /// a rate; rows keep a linear head and 1e-2.
    /// </summary>
    [TestMethod]
    [DataRow(true, null, 128, 1e-3, DisplayName = "image, default rate")]
    [DataRow(true, 5e-3, 128, 5e-3, DisplayName = "image, chosen rate")]
    [DataRow(false, null, 0, 1e-2, DisplayName = "rows")]
    public void InvertibleResNet_ImageDefaults_ReachTheModelAndTheLoop(bool image, double? learningRate, int headHidden, double firstRate)
    {
        var context = new MLContext(seed: 8);
        var split = Bars(context);
        var rates = new List<double>();
        var options = new InvertibleResNetTrainerOptions
        {
            Image = image ? new Invertible.Torch.Core.ImageShape(1, 6, 6) : null, Epochs = 1, Blocks = 2, HiddenFeatures = 4, Members = 1,
            ProgressCallback = p => rates.Add(p.LearningRate),
        };
        if (learningRate is { } rate)
            options.LearningRate = rate;
        var model = context.Transforms.Conversion.MapValueToKey("Label").Append(context.MulticlassClassification.Trainers.InvertibleResNet(options)).Fit(split.TrainSet);
        var classifier = (InvertibleResNetClassifier)((ModelMembers)((SupervisedEnsemble)model.LastTransformer.Model).Members).Model(0);
        Assert.AreEqual(headHidden, classifier.Options.HeadHidden, "hidden units of the head");
        Assert.AreEqual(headHidden > 0, classifier.HeadMlp is not null);
        Assert.AreEqual(firstRate, rates.Single(), 1e-12, "learning rate of the one epoch");
    }

    /// <summary><see cref="InvertibleResNetTrainerOptions.ImageShift"/> reaches the training batches: the same seed trains on other images.</summary>
    [TestMethod]
    public void ImageShift_ReachesTheTrainingBatches()
    {
        double FirstEpochLoss(int? shift)
        {
            var context = new MLContext(seed: 9);
            var model = context.Transforms.Conversion.MapValueToKey("Label").Append(context.MulticlassClassification.Trainers.InvertibleResNet(new InvertibleResNetTrainerOptions
            {
                Image = new Invertible.Torch.Core.ImageShape(1, 6, 6), Epochs = 1, Blocks = 2, HiddenFeatures = 4, Members = 1, ImageShift = shift,
            })).Fit(Bars(context).TrainSet);
            return model.LastTransformer.TrainingReport!.History[^1].TrainLoss;
        }
        var unshifted = FirstEpochLoss(null);
        Assert.AreEqual(unshifted, FirstEpochLoss(0), 0, "ImageShift = 0 is no shift");
        Assert.AreNotEqual(unshifted, FirstEpochLoss(1), 1e-6, "training loss of the epoch on shifted images");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new InvertibleResNetTrainerOptions { ImageShift = -1 }.Validate());
        Assert.AreEqual(nameof(InvertibleResNetTrainerOptions.ImageShift), Assert.ThrowsExactly<ArgumentException>(() => new InvertibleResNetTrainerOptions { ImageShift = 1 }.Validate()).ParamName,
            "a shift without an image shape");
        Assert.AreEqual(nameof(InvertibleResNetTrainerOptions.ImageShift), Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new InvertibleResNetTrainerOptions
        {
            Image = new Invertible.Torch.Core.ImageShape(1, 6, 6), ImageShift = 6,
        }.Validate()).ParamName, "a shift as long as a side");
    }

    private sealed class BinaryRow
    {
        [VectorType(4)]
        public float[] Features { get; set; } = [];
        public bool Label { get; set; }
        public float Target { get; set; }
        public float A { get; set; }
    }

    private static IDataView Binary(MLContext context, int rows, int seed)
    {
        var random = new Random(seed);
        return context.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(_ =>
        {
            var f = Enumerable.Range(0, 4).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            var signal = f[0] * f[1] + Math.Sin(2 * f[2]);
            return new BinaryRow { Features = f, A = f[3] * 10, Label = signal + 0.2 * (random.NextDouble() - 0.5) > 0, Target = (float)(signal + 0.1 * random.NextDouble()) };
        }).ToList());
    }

    [TestMethod]
    public void BinaryDeepEquilibrium_EvaluatesWithScoreProbabilityAndPredictedLabel_AfterConcatenate()
    {
        var context = new MLContext(4);
        var (train, test) = (Binary(context, 600, 1), Binary(context, 300, 2));
        var model = context.Transforms.Concatenate("Features", "Features", "A")
            .Append(context.Transforms.NormalizeMeanVariance("Features"))
            .Append(context.BinaryClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { Epochs = 40, StateFeatures = 32 }))
            .Fit(train);
        var members = (Invertible.Torch.Equilibrium.EquilibriumMembers)((Invertible.Torch.Supervised.SupervisedEnsemble)model.LastTransformer.Model).Members;
        Assert.IsInstanceOfType<Invertible.Torch.Equilibrium.MemberContractiveCell>(members.Cell, "the default cell is the contractive one");
        Assert.AreEqual(5, members.Members, "five cross-fitted members by default");
        var scored = model.Transform(test);
        var metrics = context.BinaryClassification.Evaluate(scored);
        var linear = context.BinaryClassification.Evaluate(context.Transforms.Concatenate("Features", "Features", "A").Append(context.Transforms.NormalizeMeanVariance("Features"))
            .Append(context.BinaryClassification.Trainers.LbfgsLogisticRegression()).Fit(train).Transform(test));
        Check.Less(linear.Accuracy + 0.05, metrics.Accuracy, $"accuracy well above a linear model's ({linear.Accuracy:F3}) on a nonlinear boundary");
        var probability = scored.GetColumn<float>("Probability").ToArray();
        var score = scored.GetColumn<float>("Score").ToArray();
        var predicted = scored.GetColumn<bool>("PredictedLabel").ToArray();
        for (var i = 0; i < score.Length; i++)
        {
            Check.Close(probability[i], 1 / (1 + Math.Exp(-score[i])), 1e-5, $"row {i}: probability is sigmoid(score)");
            Assert.AreEqual(score[i] > 0, predicted[i], $"row {i}: predicted label is score > 0");
        }
    }

    [TestMethod]
    public void RegressionDeepEquilibrium_BeatsTheLinearModel()
    {
        var context = new MLContext(5);
        var (train, test) = (Binary(context, 600, 3), Binary(context, 300, 4));
        var pipeline = context.Transforms.NormalizeMeanVariance("Features");
        var options = new DeepEquilibriumOptions { LabelColumnName = "Target", Epochs = 60, StateFeatures = 32 };
        var ours = context.Regression.Evaluate(pipeline.Append(context.Regression.Trainers.DeepEquilibrium(options)).Fit(train).Transform(test), "Target");
        var linear = context.Regression.Evaluate(pipeline.Append(context.Regression.Trainers.Sdca("Target")).Fit(train).Transform(test), "Target");
        Check.Less(ours.RootMeanSquaredError, 0.7 * linear.RootMeanSquaredError, $"RMSE vs SDCA's {linear.RootMeanSquaredError:F3}");
    }

    [TestMethod]
    public void MulticlassInvertibleResNet_InAPipeline_Evaluates()
    {
        var context = new MLContext(6);
        var (train, test) = ThreeClasses(context);
        var model = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.NormalizeMeanVariance("Features"))
            .Append(context.MulticlassClassification.Trainers.InvertibleResNet(new InvertibleResNetTrainerOptions { Epochs = 30, Blocks = 2, HiddenFeatures = 32, LearningRate = 1e-2 }))
            .Fit(train);
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(test));
        var report = ((InvertiblePredictionTransformer)model.LastTransformer).TrainingReport!;
        Check.Less(0.85, metrics.MicroAccuracy, $"test accuracy (best epoch {report.BestEpoch}: {string.Join(" ", report.History.Select(h => $"{h.TrainLoss:F3}/{h.ValidationLoss:F3}"))})");
    }

    /// <summary>
    /// Images in a pipeline: 6×6 rows of a horizontal or vertical bar at a random position (no linear model separates
    /// them at every position); <see cref="InvertibleResNetTrainerOptions.Image"/> makes the blocks convolutional.
    /// </summary>
    [TestMethod]
    public void MulticlassInvertibleResNet_OnImageRows_LearnsWhatALinearModelCannot()
    {
        var context = new MLContext(7);
        var split = Bars(context);
        var trainer = context.Transforms.Conversion.MapValueToKey("Label").Append(context.MulticlassClassification.Trainers.InvertibleResNet(
            new InvertibleResNetTrainerOptions { Image = new Invertible.Torch.Core.ImageShape(1, 6, 6), Epochs = 40, Blocks = 2, HiddenFeatures = 8, Members = 1 }));
        var ours = context.MulticlassClassification.Evaluate(trainer.Fit(split.TrainSet).Transform(split.TestSet));
        var linear = context.MulticlassClassification.Evaluate(context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.MulticlassClassification.Trainers.SdcaMaximumEntropy()).Fit(split.TrainSet).Transform(split.TestSet));
        Check.Less(0.9, ours.MicroAccuracy, $"test accuracy (SdcaMaximumEntropy: {linear.MicroAccuracy:F3})");
        Check.Less(linear.MicroAccuracy + 0.2, ours.MicroAccuracy, "above the linear model");

        var wrong = context.MulticlassClassification.Trainers.InvertibleResNet(new InvertibleResNetTrainerOptions { Image = new Invertible.Torch.Core.ImageShape(1, 5, 5) });
        var thrown = Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.Conversion.MapValueToKey("Label").Append(wrong).Fit(split.TrainSet));
        StringAssert.Contains(thrown.Message, "'Features' holds 36 values per row, but Image 1×5×5 holds 25");
    }

    /// <summary>
    /// The convolutional monotone equilibrium network (monDEQ) on the bars with its default channels and pooling: learns
    /// what the linear model cannot, and the saved pipeline, loaded with plain Model.Load, predicts through ONNX Runtime's
    /// loop as the trained one does.
    /// </summary>
    [TestMethod]
    public void MulticlassDeepEquilibrium_OnImageRows_LearnsWhatALinearModelCannot_AndServesFromOnnx()
    {
        var context = new MLContext(8);
        var split = Bars(context);
        var trainer = context.Transforms.Conversion.MapValueToKey("Label").Append(context.MulticlassClassification.Trainers.DeepEquilibrium(
            new DeepEquilibriumOptions { Image = new Invertible.Torch.Core.ImageShape(1, 6, 6), Epochs = 30, Members = 1 }));
        var model = trainer.Fit(split.TrainSet);
        var network = (Invertible.Torch.Equilibrium.EquilibriumNetwork)((Invertible.Torch.Supervised.ModelMembers)((Invertible.Torch.Supervised.SupervisedEnsemble)model.LastTransformer.Model).Members).Model(0);
        Assert.IsInstanceOfType<Invertible.Torch.Equilibrium.ConvolutionalMonotoneCell>(network.Layer.Function, "the member is the convolutional monotone network");
        var predicted = model.Transform(split.TestSet);
        var ours = context.MulticlassClassification.Evaluate(predicted);
        var linear = context.MulticlassClassification.Evaluate(context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.MulticlassClassification.Trainers.SdcaMaximumEntropy()).Fit(split.TrainSet).Transform(split.TestSet));
        Check.Less(0.9, ours.MicroAccuracy, $"test accuracy (SdcaMaximumEntropy: {linear.MicroAccuracy:F3})");
        Check.Less(linear.MicroAccuracy + 0.2, ours.MicroAccuracy, "above the linear model");

        var path = Path.Combine(Path.GetTempPath(), $"image-equilibrium-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(model, split.TrainSet.Schema, path);
            var loaded = new MLContext().Model.Load(path, out _).Transform(split.TestSet);
            // Both solves stop at the default relative residual 1e-3 (the graph by Picard, TorchSharp by the adaptive solver).
            Check.TensorsClose(MlData.Column(loaded, "Score"), MlData.Column(predicted, "Score"), 1e-3, "saved pipeline's scores through ONNX Runtime");
            CollectionAssert.AreEqual(predicted.GetColumn<uint>("PredictedLabel").ToArray(), loaded.GetColumn<uint[]>("PredictedLabel").Select(v => v[0]).ToArray(),
                "predicted labels (plain Load reads them as one-element vectors)");
        }
        finally
        {
            File.Delete(path);
        }

        var wrong = context.MulticlassClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { Image = new Invertible.Torch.Core.ImageShape(3, 6, 6) });
        var thrown = Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.Conversion.MapValueToKey("Label").Append(wrong).Fit(split.TrainSet));
        StringAssert.Contains(thrown.Message, "'Features' holds 36 values per row, but Image 3×6×6 holds 108");
    }

    /// <summary>6×6 rows of a horizontal or vertical bar at a random position in noise (no linear model separates them at
    /// every position), split 3:1.</summary>
    private static DataOperationsCatalog.TrainTestData Bars(MLContext context)
    {
        var generator = new TorchSharp.torch.Generator(7);
        const int rows = 800;
        var images = randn([rows, 1, 6, 6], generator: generator).mul(0.3);
        var vertical = randint(0, 2, [rows], generator: generator);
        var position = randint(0, 6, [rows], generator: generator);
        for (var i = 0; i < rows; i++)
        {
            var p = position[i].ToInt64();
            if (vertical[i].ToInt64() == 1)
                images[i, 0, .., p].add_(1.5);
            else
                images[i, 0, p, ..].add_(1.5);
        }
        var names = vertical.data<long>().ToArray().Select(v => v == 1 ? "vertical" : "horizontal").ToArray();
        return context.Data.TrainTestSplit(MlData.From(context, images.flatten(1), names), 0.25, seed: 1);
    }

    [TestMethod]
    public void BadLabels_AreNamed()
    {
        var context = new MLContext(1);
        var (train, _) = ThreeClasses(context, 100);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.DeepEquilibrium().Fit(train)).Message,
            "must be a key type");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => context.BinaryClassification.Trainers.DeepEquilibrium(labelColumnName: "Missing").Fit(train)).Message,
            "'Missing' was not found");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => context.Regression.Trainers.DeepEquilibrium().Fit(train)).Message,
            "must be Single");
    }
}
