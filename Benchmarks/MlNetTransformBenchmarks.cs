using BenchmarkDotNet.Attributes;
using Invertible.ML.Flows;
using Invertible.Torch.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Invertible.Benchmarks;

/// <summary>
/// Throughput of the flow transform on 10 000 rows (d = 16, 4 blocks of 64 hidden units; latent + log-likelihood):
/// our batched transformer, ML.NET's ApplyOnnxModel on the same exported graph (one ONNX Runtime call per row), and
/// ONNX Runtime called directly on batches of 1 024 rows; and the latency of one prediction-engine call.
/// </summary>
public class MlNetTransformBenchmarks
{
    private const int Rows = 10_000, Width = 16;
    private MLContext context = null!;
    private IDataView data = null!;
    private InvertibleResNetTransformer ours = null!;
    private ITransformer applyOnnx = null!;
    private InferenceSession session = null!;
    private float[] values = null!;
    private PredictionEngine<Row, Scored> engine = null!;
    private List<Row> rows = null!;
    private int next;

    /// <summary>One row.</summary>
    public sealed class Row
    {
        /// <summary>Features.</summary>
        [VectorType(Width)]
        public float[] Features { get; set; } = [];
    }

    /// <summary>A prediction.</summary>
    public sealed class Scored
    {
        /// <summary>Log-likelihood.</summary>
        public float LogLikelihood { get; set; }
    }

    /// <summary>Trains the flow briefly (the speed does not depend on how well), exports it, builds the three paths.</summary>
    [GlobalSetup]
    public void Setup()
    {
        context = new MLContext(1);
        var random = new Random(1);
        values = Enumerable.Range(0, Rows * Width).Select(_ => (float)random.NextDouble()).ToArray();
        rows = Enumerable.Range(0, Rows).Select(i => new Row { Features = values[(i * Width)..((i + 1) * Width)] }).ToList();
        data = context.Data.LoadFromEnumerable(rows);
        ours = context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 1, Blocks = 4, HiddenFeatures = 64 }).Fit(data);
        var graph = FlowExporter.ExportForward(ours.Model);
        applyOnnx = context.Transforms.CopyColumns("x", "Features")
            .Append(context.Transforms.ApplyOnnxModel(["latent", "log_likelihood"], ["x"], new MemoryStream(graph.ToBytes())))
            .Fit(data);
        session = new InferenceSession(graph.ToBytes());
        engine = context.Model.CreatePredictionEngine<Row, Scored>(ours);
    }

    /// <summary>Our transformer: lazy data view, batches of 1 024 rows (through ONNX Runtime, the flow's own graph).</summary>
    [Benchmark(Baseline = true)]
    public float OurTransform() => Consume(ours.Transform(data), "LogLikelihood");

    /// <summary>ML.NET's ApplyOnnxModel on the exported forward graph.</summary>
    [Benchmark]
    public float ApplyOnnxModel() => Consume(applyOnnx.Transform(data), "log_likelihood");

    /// <summary>ONNX Runtime on the same graph, batches of 1 024 rows, no ML.NET.</summary>
    [Benchmark]
    public float RawOnnxRuntimeBatched()
    {
        var sum = 0f;
        for (var start = 0; start < Rows; start += 1024)
        {
            var count = Math.Min(1024, Rows - start);
            var input = new DenseTensor<float>(values.AsMemory(start * Width, count * Width), [count, Width]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
            foreach (var v in results.Single(r => r.Name == "log_likelihood").AsEnumerable<float>())
                sum += v;
        }
        return sum;
    }

    /// <summary>One row through a prediction engine (our row mapper, batch of one); a different row each call, since the
    /// mapper reuses its result while the features are unchanged.</summary>
    [Benchmark(OperationsPerInvoke = 1)]
    public float PredictionEngineOneRow() => engine.Predict(rows[next++ % Rows]).LogLikelihood;

    private static float Consume(IDataView view, string column)
    {
        var sum = 0f;
        using var cursor = view.GetRowCursor([view.Schema[column]]);
        var type = view.Schema[column].Type;
        if (type is VectorDataViewType)
        {
            var getter = cursor.GetGetter<VBuffer<float>>(view.Schema[column]);
            VBuffer<float> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                sum += value.GetItemOrDefault(0);
            }
        }
        else
        {
            var getter = cursor.GetGetter<float>(view.Schema[column]);
            var value = 0f;
            while (cursor.MoveNext())
            {
                getter(ref value);
                sum += value;
            }
        }
        return sum;
    }

    /// <summary>Releases the model and the session.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        session.Dispose();
        ours.Dispose();
    }
}
