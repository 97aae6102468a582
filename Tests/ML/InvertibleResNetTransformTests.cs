using Invertible.ML.Checks;
using Invertible.ML.Flows;
using Invertible.Tests.Support;
using Invertible.Torch.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Tests.ML;

[TestClass]
public sealed class InvertibleResNetTransformTests
{
    private static (MLContext Context, IDataView Data, TransformerChain<InvertibleResNetTransformer> Model) Fitted(int seed = 1, int epochs = 30)
    {
        var context = new MLContext(seed);
        var data = MlData.From(context, ToyDensities.TwoMoons(800, new TorchSharp.torch.Generator(3)));
        var pipeline = context.Transforms.NormalizeMeanVariance("Features")
            .Append(context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = epochs }));
        return (context, data, pipeline.Fit(data));
    }

    [TestMethod]
    public void Pipeline_AddsLatentAndLogLikelihood_AndTheInverseReconstructsTheInput()
    {
        var (context, data, model) = Fitted();
        var transformed = model.Transform(data);
        var logLikelihood = MlData.Scalars(transformed, "LogLikelihood");
        Assert.IsTrue(isfinite(logLikelihood).all().item<bool>());
        var flow = model.LastTransformer;
        var reconstructed = flow.Inverse().Transform(transformed);
        Check.AtMost(TransformerChecks.RoundTrip(flow, transformed), 1e-4, "F⁻¹(F(x)) vs x, every row converged");
        Assert.IsTrue(reconstructed.GetColumn<int>("ReconstructedIterations").All(i => i > 0));
        Console.WriteLine($"mean LL {logLikelihood.mean().ToDouble()}, best epoch {flow.TrainingReport!.BestEpoch}");
    }

    [TestMethod]
    public void SaveThenLoad_ScoresWithOnnx_AndLoadInvertible_RestoresForwardAndInverseExactly()
    {
        var (context, data, model) = Fitted();
        var path = Path.Combine(Path.GetTempPath(), $"invertible-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(model, data.Schema, path);
            var expected = model.Transform(data);
            var latent = MlData.Column(expected, "Latent");
            var logLikelihood = MlData.Scalars(expected, "LogLikelihood");

            var plain = new MLContext().Model.Load(path, out var plainSchema).Transform(data);
            Check.TensorsClose(MlData.Column(plain, "Latent"), latent, 1e-5, "plain Load (ONNX): latent");
            Check.TensorsClose(MlData.Column(plain, "LogLikelihood").squeeze(1), logLikelihood, 1e-4, "plain Load (ONNX): log-likelihood");

            var restored = context.Model.LoadInvertible(path, out var schema);
            var chain = (TransformerChain<ITransformer>)restored;
            var flow = chain.OfType<InvertibleResNetTransformer>().Single();
            var again = restored.Transform(data);
            Check.Identical(MlData.Column(again, "Latent"), latent, "LoadInvertible: latent");
            Check.Identical(MlData.Scalars(again, "LogLikelihood"), logLikelihood, "LoadInvertible: log-likelihood");
            var original = model.LastTransformer.Inverse().Transform(expected);
            Check.Identical(MlData.Column(flow.Inverse().Transform(again), "Reconstructed"), MlData.Column(original, "Reconstructed"), "LoadInvertible: inverse");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
