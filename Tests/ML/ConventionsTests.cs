using System.Collections.Concurrent;
using Invertible.ML.Flows;
using Invertible.ML.Hosting;
using Invertible.ML.Trainers;
using Invertible.Tests.Support;
using Invertible.Torch.Data;
using Invertible.Torch.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Tests.ML;

/// <summary>ML.NET conventions: seeds, logging and progress, schema and data checks, cancellation, prediction engines.</summary>
[TestClass]
public sealed class ConventionsTests
{
    private static InvertibleResNetOptions Quick() => new() { Epochs = 3, Blocks = 1, HiddenFeatures = 16 };

    private static IDataView Moons(MLContext context, int rows = 400) => MlData.From(context, ToyDensities.TwoMoons(rows, new TorchSharp.torch.Generator(3)));

    [TestMethod]
    public void SameSeed_GivesIdenticalModelAndOutputs_AnotherSeedDoesNot()
    {
        float[] Fit(int seed)
        {
            var context = new MLContext(seed);
            var data = Moons(context);
            return context.Transforms.InvertibleResNet(Quick()).Fit(data).Transform(data).GetColumn<float>("LogLikelihood").ToArray();
        }
        CollectionAssert.AreEqual(Fit(5), Fit(5), "MLContext(seed: 5) twice");
        CollectionAssert.AreNotEqual(Fit(5), Fit(6), "another seed");
    }

    [TestMethod]
    [DataRow("DeepEquilibrium")]
    [DataRow("InvertibleResNet")]
    public void SupervisedTrainers_SameSeed_GiveIdenticalScores(string trainer)
    {
        float[] Fit(int seed)
        {
            var context = new MLContext(seed);
            var x = ToyDensities.TwoMoons(300, new TorchSharp.torch.Generator(4));
            var labels = Enumerable.Range(0, 300).Select(i => x[i, 1].ToSingle() > 0.25f ? "up" : "down").ToArray();
            var data = MlData.From(context, x, labels);
            IEstimator<ITransformer> estimator = trainer == "DeepEquilibrium"
                ? context.MulticlassClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { Epochs = 2, StateFeatures = 8 })
                : context.MulticlassClassification.Trainers.InvertibleResNet(new InvertibleResNetTrainerOptions { Epochs = 2, Blocks = 1, HiddenFeatures = 8 });
            var model = context.Transforms.Conversion.MapValueToKey("Label").Append(estimator).Fit(data);
            return model.Transform(data).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        }
        CollectionAssert.AreEqual(Fit(5), Fit(5), "MLContext(seed: 5) twice");
        CollectionAssert.AreNotEqual(Fit(5), Fit(6), "another seed");
    }

    [TestMethod]
    public void Training_ReportsEveryEpoch_ToTheLogAndTheCallback()
    {
        var context = new MLContext(1);
        var log = new ConcurrentQueue<string>();
        context.Log += (_, e) => log.Enqueue(e.Message);
        var reports = new List<TrainingProgress>();
        var options = Quick();
        options.ProgressCallback = reports.Add;
        options.EarlyStoppingPatience = 0;
        context.Transforms.InvertibleResNet(options).Fit(Moons(context));
        Assert.AreEqual(3, reports.Count, "one callback per epoch");
        Assert.IsTrue(reports.All(r => r.ValidationLoss is not null && r.Elapsed > TimeSpan.Zero));
        var epochLines = log.Where(m => m.Contains("epoch ") && m.Contains("/3:")).ToList();
        Assert.AreEqual(3, epochLines.Count, "one log line per epoch: " + string.Join(" | ", epochLines));
        Assert.IsTrue(log.Any(m => m.Contains("starting from the fitted Gaussian")), "the start is logged");
    }

    [TestMethod]
    public void Cancellation_StopsFit()
    {
        var context = new MLContext(1);
        using var source = new CancellationTokenSource();
        var options = Quick();
        options.CancellationToken = source.Token;
        options.ProgressCallback = _ => source.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => context.Transforms.InvertibleResNet(options).Fit(Moons(context)));
    }

    [TestMethod]
    public void BadColumns_AreNamedInTheException_AtSchemaTimeAndAtFit()
    {
        var context = new MLContext(1);
        var estimator = context.Transforms.InvertibleResNet(Quick());
        var data = Moons(context);

        var missing = context.Transforms.InvertibleResNet(new InvertibleResNetOptions { FeatureColumnName = "Pixels" });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => missing.Fit(data)).Message, "'Pixels' was not found");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => missing.GetOutputSchema(SchemaShape(estimator, data))).Message, "'Pixels' was not found");

        var scalar = context.Data.LoadFromEnumerable(new[] { new ScalarRow { Features = 1 } });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => estimator.Fit(scalar)).Message, "must be a vector of Single");

        var variable = context.Data.LoadFromEnumerable(new[] { new MlData.Row { Features = [1, 2] } });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => estimator.Fit(variable)).Message, "unknown size");

        var empty = MlData.From(context, zeros(0, 2));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => estimator.Fit(empty)).Message, "no rows");

        var transformer = estimator.Fit(data);
        var wider = MlData.From(context, randn(5, 3));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => transformer.Transform(wider)).Message, "has 3 values per row; the model was trained on 2");
    }

    [TestMethod]
    public void NonFiniteValues_AreNamedByColumnRowAndSlot_InFitAndInTransform()
    {
        var context = new MLContext(1);
        var rows = ToyDensities.TwoMoons(100, new TorchSharp.torch.Generator(3));
        rows[42, 1] = tensor(float.NaN);
        var bad = MlData.From(context, rows);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.InvertibleResNet(Quick()).Fit(bad)).Message, "Column 'Features', row 42: slot 1 is NaN");

        var transformer = context.Transforms.InvertibleResNet(Quick()).Fit(Moons(context));
        var failure = Assert.ThrowsExactly<ArgumentException>(() => transformer.Transform(bad).GetColumn<float>("LogLikelihood").ToArray());
        StringAssert.Contains(failure.Message, "row 42: slot 1 is NaN");
    }

    [TestMethod]
    public void PredictionEngines_OnEightThreads_GiveExactlyTheSequentialResults()
    {
        var context = new MLContext(1);
        var data = Moons(context, 400);
        var transformer = context.Transforms.InvertibleResNet(Quick()).Fit(data);
        var inputs = data.GetColumn<float[]>("Features").ToArray();
        var sequential = transformer.Transform(data).GetColumn<float>("LogLikelihood").ToArray();
        var engineResults = new float[inputs.Length];
        // ML.NET's PredictionEngine owns its transformer (disposing an engine disposes the model), so the engines live
        // until every thread is done.
        var engines = new ConcurrentBag<IDisposable>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            var engine = context.Model.CreatePredictionEngine<MlData.Row, Scored>(transformer, inputSchemaDefinition: SchemaDefinitionFor(2));
            engines.Add(engine);
            for (var i = worker; i < inputs.Length; i += 8)
                engineResults[i] = engine.Predict(new MlData.Row { Features = inputs[i] }).LogLikelihood;
        });
        foreach (var engine in engines)
            engine.Dispose();
        CollectionAssert.AreEqual(sequential, engineResults, "each row's log-likelihood from an engine equals the batched Transform's");
    }

    [TestMethod]
    public void CatalogEnvironment_IsReachedByReflection_AndAnUnknownCatalogGetsAClearError()
    {
        var context = new MLContext(1);
        Assert.IsNotNull(CatalogEnvironment.Of(context.Transforms));
        Assert.IsNotNull(CatalogEnvironment.Of(context.MulticlassClassification.Trainers));
        Assert.IsNotNull(CatalogEnvironment.Of(context.AnomalyDetection.Trainers));
        Assert.IsNotNull(CatalogEnvironment.Of(context.Model));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => CatalogEnvironment.Of(new object())).Message, "new InvertibleResNetEstimator(mlContext, options)");
    }

    private static SchemaDefinition SchemaDefinitionFor(int width)
    {
        var schema = SchemaDefinition.Create(typeof(MlData.Row));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }

    /// <summary>The input shape ML.NET's own pipelines pass to GetOutputSchema (SchemaShape.Create is internal: reflection, test-only).</summary>
    private static SchemaShape SchemaShape(IEstimator<ITransformer> _, IDataView data)
        => (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!
            .Invoke(null, [data.Schema])!;

    private sealed class ScalarRow
    {
        public float Features { get; set; }
    }

    private sealed class Scored
    {
        public float LogLikelihood { get; set; }
    }
}
