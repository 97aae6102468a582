using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Invertible.ML.Flows;
using Invertible.Samples.InferenceService;
using Invertible.Tests.Support;
using Invertible.Torch.Flows;
using Invertible.Torch.Onnx;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Invertible.Tests.Samples;

/// <summary>Starts the inference service on a free loopback port and calls it over real HTTP.</summary>
[TestClass]
public sealed class InferenceServiceTests
{
    private static InvertibleResNetFlow flow = null!;
    private static string folder = null!;
    private static WebApplication app = null!;
    private static HttpClient client = null!;
    private static double hardTolerance;
    private static MLContext mlContext = null!;
    private static IDataView pipelineData = null!;
    private static ITransformer pipeline = null!;

    [ClassInitialize]
    public static async Task StartService(TestContext context)
    {
        manual_seed(151);
        flow = new InvertibleResNetFlow(3, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 16, InvertibleLinear = true });
        flow.forward(randn(128, 3).mul(2));
        flow.eval();
        folder = Directory.CreateTempSubdirectory("invertible-service-").FullName;
        FlowExporter.ExportForward(flow).Save(Path.Combine(folder, "density.forward.onnx"));
        FlowExporter.ExportInverse(flow).Save(Path.Combine(folder, "density.inverse.onnx"));
        var hard = FlowExporter.ExportInverse(HardModels.Flow(), HardModels.TwoIterations);
        hardTolerance = double.Parse(hard.Metadata()["invertible.tolerance"], CultureInfo.InvariantCulture);
        hard.Save(Path.Combine(folder, "hard.inverse.onnx"));

        // A whole ML.NET pipeline (normaliser + flow transform), exported the supported way.
        mlContext = new MLContext(5);
        pipelineData = MlData.From(mlContext, randn(200, 3).mul(3).add(1));
        pipeline = mlContext.Transforms.NormalizeMeanVariance("Features")
            .Append(mlContext.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 2, Blocks = 1, HiddenFeatures = 8 })).Fit(pipelineData);
        mlContext.Model.ExportInvertibleOnnx(pipeline, pipelineData.Schema, Path.Combine(folder, "pipeline.forward.onnx"));

        app = InferenceApp.Create(["--urls", "http://127.0.0.1:0", "--models", folder]);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        StringAssert.StartsWith(address, "http://127.0.0.1:", "the service binds to loopback only");
        client = new HttpClient { BaseAddress = new Uri(address) };
    }

    [ClassCleanup]
    public static async Task StopService()
    {
        client.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    private static float[][] Rows(Tensor t) => Enumerable.Range(0, (int)t.shape[0]).Select(i => t[i].data<float>().ToArray()).ToArray();

    private static async Task<JsonElement> Post(string path, object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.AreEqual(expected, response.StatusCode, text);
        return JsonDocument.Parse(text).RootElement;
    }

    [TestMethod]
    public async Task ScoreForwardAndInverse_MatchTheModel()
    {
        var x = randn(5, 3);
        // Grad mode is per thread and an await may resume elsewhere: compute the references without awaiting.
        var (latent, logProb) = Reference(x);

        var scores = (await Post("/models/density/score", new { rows = Rows(x) })).GetProperty("logLikelihood").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Check.TensorsClose(tensor(scores), logProb, 1e-4, "log-likelihood over HTTP");

        var forward = await Post("/models/density/forward", new { rows = Rows(x) });
        var served = forward.GetProperty("latent").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        Check.TensorsClose(tensor(served.SelectMany(r => r).ToArray()).view(5, 3), latent, 1e-5, "latent over HTTP");

        var inverse = await Post("/models/density/inverse", new { rows = served });
        var back = inverse.GetProperty("x").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        Check.TensorsClose(tensor(back).view(5, 3), x, 1e-4, "inverse over HTTP");
        Assert.IsTrue(inverse.GetProperty("converged").EnumerateArray().All(c => c.GetBoolean()), "every row reports convergence");
        Assert.AreEqual(5, inverse.GetProperty("iterations").GetArrayLength());
    }

    [TestMethod]
    public async Task Score_OfAPipelineExportedFromMlNet_MatchesThePipeline()
    {
        var rows = pipelineData.GetColumn<float[]>("Features").Take(20).ToArray();
        var expected = pipeline.Transform(mlContext.Data.TakeRows(pipelineData, 20)).GetColumn<float>("LogLikelihood").ToArray();
        var scores = (await Post("/models/pipeline/score", new { rows })).GetProperty("logLikelihood").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Check.TensorsClose(tensor(scores), tensor(expected), 1e-4, "log-likelihood of the ML.NET pipeline over HTTP (normaliser included)");
    }

    [TestMethod]
    public async Task Inverse_CappedBeforeConvergence_ReportsEveryRowNotConverged()
    {
        var rows = Rows(randn(4, HardModels.Features));
        var inverse = await Post("/models/hard/inverse", new { rows });
        Assert.IsTrue(inverse.GetProperty("converged").EnumerateArray().All(c => !c.GetBoolean()), "no row is reported converged");
        Assert.IsTrue(inverse.GetProperty("iterations").EnumerateArray().All(i => i.GetInt64() == 2), "every row ran the two iterations of the cap");
        var residuals = inverse.GetProperty("residual").EnumerateArray().Select(r => r.GetDouble()).ToArray();
        Assert.AreEqual(4, residuals.Length);
        Check.Less(100 * hardTolerance, residuals.Min(), "the smallest residual over HTTP, in units of the tolerance ×100");
    }

    private static (Tensor Latent, Tensor LogProb) Reference(Tensor x)
    {
        using var _ = no_grad();
        return (flow.forward(x).Latent, flow.LogProb(x));
    }

    [TestMethod]
    public async Task BadRequests_AreRejectedWith400AndAClearMessage()
    {
        StringAssert.Contains((await Post("/models/density/score", new { rows = new[] { new float[] { 1, 2 } } }, HttpStatusCode.BadRequest)).GetProperty("error").GetString(), "expects 3");
        StringAssert.Contains((await Post("/models/density/score", new { rows = Array.Empty<float[]>() }, HttpStatusCode.BadRequest)).GetProperty("error").GetString(), "no rows");
        using var nan = new StringContent("{\"rows\": [[1, \"NaN\", 2]]}", System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/models/density/score", nan);
        Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode);
        StringAssert.Contains(await response.Content.ReadAsStringAsync(), "column 1");
        StringAssert.Contains((await Post("/models/unknown/score", new { rows = new[] { new float[] { 1, 2, 3 } } }, HttpStatusCode.NotFound)).GetProperty("error").GetString(), "Unknown model");
    }

    [TestMethod]
    public async Task Models_AreListedWithTheirOperations()
    {
        var models = JsonDocument.Parse(await client.GetStringAsync("/models")).RootElement;
        var density = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "density");
        Assert.AreEqual(3, density.GetProperty("features").GetInt32());
        CollectionAssert.AreEquivalent(new[] { "forward", "score", "inverse" }, density.GetProperty("operations").EnumerateArray().Select(o => o.GetString()).ToArray());
    }
}
