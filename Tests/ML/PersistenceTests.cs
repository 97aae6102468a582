using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Invertible.ML.Flows;
using Invertible.ML.Trainers;
using Invertible.Tests.Support;
using Invertible.Torch.Data;
using Invertible.Torch.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using static TorchSharp.torch;

namespace Invertible.Tests.ML;

/// <summary>Save/Load: ONNX stand-ins for plain Load, exact restoration with LoadInvertible, damaged files, ConvertToOnnx.</summary>
[TestClass]
public sealed class PersistenceTests
{
    private static string TempFile(string extension) => Path.Combine(Path.GetTempPath(), $"invertible-{Guid.NewGuid():N}{extension}");

    private static (MLContext Context, IDataView Data, ITransformer Model) FlowPipeline()
    {
        var context = new MLContext(7);
        var data = MlData.From(context, ToyDensities.TwoMoons(300, new TorchSharp.torch.Generator(3)).mul(5).add(2));
        var model = context.Transforms.NormalizeMeanVariance("Features")
            .Append(context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 3, Blocks = 1, HiddenFeatures = 16 }))
            .Fit(data);
        return (context, data, model);
    }

    [TestMethod]
    public void PlainLoad_InAProcessWithoutTorchSharp_ScoresLikeTheModel()
    {
        var (context, data, model) = FlowPipeline();
        var (modelPath, inputPath) = (TempFile(".zip"), TempFile(".csv"));
        try
        {
            context.Model.Save(model, data.Schema, modelPath);
            var features = data.GetColumn<float[]>("Features").Take(20).ToArray();
            File.WriteAllLines(inputPath, features.Select(r => string.Join(",", r.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
            var lines = RunOnnxOnlyScoring(modelPath, inputPath, "Latent", "LogLikelihood");
            Assert.AreEqual("# TorchSharp loaded: False; Invertible.ML loaded: False", lines[^1]);
            var printed = tensor(lines[..^1].SelectMany(l => l.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray()).view(20, 3);
            var expected = model.Transform(context.Data.TakeRows(data, 20));
            Check.TensorsClose(printed[.., ..2], MlData.Column(expected, "Latent"), 1e-5, "latent from ONNX Runtime alone");
            Check.TensorsClose(printed[.., 2], MlData.Scalars(expected, "LogLikelihood"), 1e-4, "log-likelihood from ONNX Runtime alone");
        }
        finally
        {
            File.Delete(modelPath);
            File.Delete(inputPath);
        }
    }

    private static string[] RunOnnxOnlyScoring(params string[] arguments)
        => Processes.RunDotnet(Processes.Built("Samples/OnnxOnlyScoring", "OnnxOnlyScoring.dll"), arguments).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [TestMethod]
    public void LoadInvertible_RestoresInverseSupervisedAndAnomalyTransformers_WithIdenticalOutputs()
    {
        var context = new MLContext(3);
        var generator = new TorchSharp.torch.Generator(5);
        var x = randn([300, 4], generator: generator);
        var names = x[.., 0].add(x[.., 1].square()).gt(0.8).data<bool>().ToArray().Select(b => b ? "high" : "low").ToArray();
        var data = MlData.From(context, x, names);
        var quick = new DeepEquilibriumOptions { Epochs = 3, StateFeatures = 8 };
        var flowOptions = new InvertibleResNetAnomalyOptions { Epochs = 3, Blocks = 1, HiddenFeatures = 8 };
        var flow = context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 3, Blocks = 1, HiddenFeatures = 8 }).Fit(data);
        var pipeline = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.MulticlassClassification.Trainers.DeepEquilibrium(quick))
            .Append(context.Transforms.CopyColumns("ClassScore", "Score"))
            .Append(context.Transforms.CopyColumns("ClassLabel", "PredictedLabel"))
            .Fit(data);
        var chain = new TransformerChain<ITransformer>(pipeline, flow, flow.Inverse(), context.Transforms.CopyColumns("AnomalyInput", "Features").Fit(data),
            context.AnomalyDetection.Trainers.InvertibleResNet(new InvertibleResNetAnomalyOptions { FeatureColumnName = "AnomalyInput", Epochs = 3, Blocks = 1, HiddenFeatures = 8 })
                .Fit(context.Transforms.CopyColumns("AnomalyInput", "Features").Fit(data).Transform(data)));
        var path = TempFile(".zip");
        try
        {
            context.Model.Save(chain, data.Schema, path);
            var restored = context.Model.LoadInvertible(path, out _);
            var (before, after) = (chain.Transform(data), restored.Transform(data));
            Check.Identical(MlData.Column(after, "ClassScore"), MlData.Column(before, "ClassScore"), "multiclass scores");
            CollectionAssert.AreEqual(before.GetColumn<uint>("ClassLabel").ToArray(), after.GetColumn<uint>("ClassLabel").ToArray(), "predicted keys");
            var keyValues = new VBuffer<ReadOnlyMemory<char>>();
            after.Schema["ClassLabel"].GetKeyValues(ref keyValues);
            CollectionAssert.AreEqual(new[] { "low", "high" }.Order().ToArray(), keyValues.DenseValues().Select(v => v.ToString()).Order().ToArray(), "key values restored");
            Check.Identical(MlData.Column(after, "Reconstructed"), MlData.Column(before, "Reconstructed"), "inverse");
            CollectionAssert.AreEqual(before.GetColumn<int>("ReconstructedIterations").ToArray(), after.GetColumn<int>("ReconstructedIterations").ToArray(), "inverse iterations");
            CollectionAssert.AreEqual(before.GetColumn<float>("LogLikelihood").ToArray(), after.GetColumn<float>("LogLikelihood").ToArray(), "log-likelihoods");
            CollectionAssert.AreEqual(before.GetColumn<float>("Score").ToArray(), after.GetColumn<float>("Score").ToArray(), "anomaly scores");
            Assert.AreEqual(((InvertibleAnomalyTransformer)chain.Last()).Threshold, ((InvertibleAnomalyTransformer)((TransformerChain<ITransformer>)restored).Last()).Threshold, "anomaly threshold");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void LoadInvertible_ModelContinuesTraining()
    {
        var (context, data, model) = FlowPipeline();
        var path = TempFile(".zip");
        try
        {
            context.Model.Save(model, data.Schema, path);
            var restored = (TransformerChain<ITransformer>)context.Model.LoadInvertible(path, out _);
            var flow = restored.OfType<InvertibleResNetTransformer>().Single();
            var normalized = MlData.Column(restored.First().Transform(data), "Features");
            var before = Trainer.Evaluate(flow.Model, [normalized], (b, _) => flow.Model.LogProb(b[0]).mean().neg());
            var report = Trainer.Fit(flow.Model, [normalized], (b, _) => flow.Model.LogProb(b[0]).mean().neg(), new TrainerOptions { Epochs = 5, LearningRate = 5e-3, ValidationFraction = 0 });
            Check.Less(Trainer.Evaluate(flow.Model, [normalized], (b, _) => flow.Model.LogProb(b[0]).mean().neg()), before, "NLL after five more epochs");
            Assert.AreEqual(5, report.History.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void DamagedModelFiles_LoadWithIdenticalOutputsOrThrowInvalidData()
    {
        var (context, data, model) = FlowPipeline();
        var path = TempFile(".zip");
        context.Model.Save(model, data.Schema, path);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        var expected = model.Transform(data).GetColumn<float>("LogLikelihood").ToArray();
        var random = new Random(11);
        var (loaded, rejected) = (0, 0);
        for (var i = 0; i < 200; i++)
        {
            var damaged = i < 100 ? bytes[..random.Next(bytes.Length)] : Flip(bytes, random);
            try
            {
                var restored = context.Model.LoadInvertible(new MemoryStream(damaged), out _);
                CollectionAssert.AreEqual(expected, restored.Transform(data).GetColumn<float>("LogLikelihood").ToArray(), $"case {i} loaded, so it must score identically");
                loaded++;
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
        }
        Assert.AreEqual(200, loaded + rejected);
        Assert.IsTrue(rejected >= 100, $"every truncation is rejected ({rejected} rejections)");
    }

    [TestMethod]
    public void LoadInvertible_RejectsAnEntryThatDisagreesWithItsCrc_WhichPlainLoadAcceptsSilently()
    {
        var (context, data, model) = FlowPipeline();
        var path = TempFile(".zip");
        context.Model.Save(model, data.Schema, path);
        var saved = File.ReadAllBytes(path);
        File.Delete(path);
        // Stored (uncompressed) entries put the normaliser's fitted scale verbatim in the file; no deflate stream then
        // stands between a flipped byte and the value ML.NET reads.
        var stored = Rezip(saved, CompressionLevel.NoCompression);
        var normalizer = (NormalizingTransformer)((IEnumerable<ITransformer>)model).First();
        var scale = ((NormalizingTransformer.AffineNormalizerModelParameters<ImmutableArray<float>>)normalizer.GetNormalizerModelParameters(0)).Scale[0];
        var at = stored.AsSpan().IndexOf(BitConverter.GetBytes(scale));
        Assert.IsTrue(at >= 0, "the normaliser's scale is stored verbatim");
        var damaged = (byte[])stored.Clone();
        damaged[at + 2] ^= 0x10;

        float[] Latents(ITransformer m) => [.. m.Transform(data).GetColumn<float[]>("Latent").SelectMany(r => r)];
        var expected = Latents(model);
        CollectionAssert.AreNotEqual(expected, Latents(context.Model.Load(new MemoryStream(damaged), out _)),
            "ML.NET loads the damaged normaliser without complaint, and it maps differently");
        CollectionAssert.AreEqual(expected, Latents(context.Model.LoadInvertible(new MemoryStream(stored), out _)),
            "the undamaged stored copy loads and maps identically");
        var error = Assert.ThrowsExactly<InvalidDataException>(() => context.Model.LoadInvertible(new MemoryStream(damaged), out _));
        StringAssert.Contains(error.Message, "CRC-32");
    }

    private static byte[] Rezip(byte[] zip, CompressionLevel level)
    {
        using var output = new MemoryStream();
        using (var source = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read))
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                using var from = entry.Open();
                using var to = target.CreateEntry(entry.FullName, level).Open();
                from.CopyTo(to);
            }
        }
        return output.ToArray();
    }

    private static byte[] Flip(byte[] bytes, Random random)
    {
        var copy = (byte[])bytes.Clone();
        copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    [TestMethod]
    public void ConvertToOnnx_OnAPipelineHoldingOurTransformer_FailsLoudly()
    {
        var (context, data, model) = FlowPipeline();
        var failure = Assert.Throws<Exception>(() => context.Model.ConvertToOnnx(model, data, new MemoryStream()));
        StringAssert.Contains(failure.Message, "UseMlContextModelExportInvertibleOnnxInstead", "the message points to the supported export");
    }

    [TestMethod]
    public void ExportInvertibleOnnx_WritesTheWholePipeline_AndOnnxRuntimeReproducesIt()
    {
        var (context, data, model) = FlowPipeline();
        var path = TempFile(".onnx");
        try
        {
            context.Model.ExportInvertibleOnnx(model, data.Schema, path);
            var exported = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            var raw = MlData.Column(data, "Features");
            var outputs = OnnxRunner.Run(exported, ("Features", raw));
            var expected = model.Transform(data);
            Check.TensorsClose(outputs["Latent"], MlData.Column(expected, "Latent"), 1e-4, "latent of the raw rows, normaliser included");
            Check.TensorsClose(outputs["LogLikelihood"], MlData.Scalars(expected, "LogLikelihood"), 1e-3, "log-likelihood");

            var unsupported = context.Transforms.Concatenate("Features", "Features").Append(context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 1, Blocks = 1, HiddenFeatures = 4 })).Fit(data);
            StringAssert.Contains(Assert.ThrowsExactly<NotSupportedException>(() => context.Model.ExportInvertibleOnnx(unsupported, data.Schema, path)).Message, "ColumnConcatenatingTransformer");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
