using Invertible.ML.Trainers;
using Invertible.Tests.Support;
using Invertible.Torch;
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
    public void MulticlassDeepEquilibrium_InAPipeline_EvaluatesPredictsAndMapsKeysBack()
    {
        var context = new MLContext(seed: 3);
        var (train, test) = ThreeClasses(context);
        var pipeline = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.NormalizeMeanVariance("Features"))
            .Append(context.MulticlassClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { Epochs = 30 }))
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
}
