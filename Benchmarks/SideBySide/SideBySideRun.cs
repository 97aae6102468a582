using System.Globalization;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using Invertible.Torch.Solvers;
using Invertible.Torch.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Invertible.Benchmarks.SideBySide;

/// <summary>
/// <c>Benchmarks side-by-side [--peer path] [--python path] [--sections abcdef]</c>: runs the PyTorch eager peer
/// (<c>../shared/peers/torch_peer.py</c>) and then our equivalent of each of its sections (a forward latency, b fixed-point
/// inverse, c inverse + backward, d/f flow training step, e GEMM rates) in the same process tree, with the same timing
/// rule, and prints one table of peer, ours and the ratio, beside the fp32 peak measured in the same run.
/// The two never run at the same time (libtorch's and OpenBLAS's worker threads spin).
/// </summary>
internal static class SideBySideRun
{
    private const int Features = 64, Hidden = 256;

    private sealed record Row(string Section, string Config, string Ours, double Peer, double Value, string Unit, string Note = "");

    public static void Print(string[] args)
    {
        var peerScript = Option(args, "--peer") ?? Path.Combine("..", "shared", "peers", "torch_peer.py");
        var python = Option(args, "--python") ?? "/usr/bin/python3";
        var sections = Option(args, "--sections") ?? "abcdef";
        Console.WriteLine($"# running the peer: {python} {peerScript} {sections}");
        var (peerLines, comments) = PeerResults.Run(peerScript, python, sections);
        // The peer's own TSV, as it printed it, then our table beside it.
        foreach (var comment in comments)
            Console.WriteLine(comment);
        foreach (var line in peerLines)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{line.Benchmark}\t{line.Config}\t{line.Value:G6}\t{line.Unit}"));
        double Peer(string bench, string config, string unit) =>
            peerLines.FirstOrDefault(l => l.Benchmark == bench && l.Config == config && l.Unit == unit)?.Value ?? double.NaN;

        // Only now load libtorch: its worker threads must not exist while the peer runs.
        torch.set_num_threads(2);
        var peak = MachinePeak.FmaGigaflops();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# fp32 peak measured now: FMA loop {peak:F0} GFLOP/s on {Environment.ProcessorCount} threads"));
        var rows = new List<Row>();

        if (sections.Contains('a'))
            Forward(rows, Peer);
        if (sections.Contains('b'))
            Inverse(rows, Peer);
        if (sections.Contains('c'))
            InverseBackward(rows, Peer);
        if (sections.Contains('d') || sections.Contains('f'))
            FlowTraining(rows, Peer, sections);
        if (sections.Contains('e'))
            Gemm(rows, Peer, peak);

        Console.WriteLine();
        Console.WriteLine("| section | configuration | ours | PyTorch eager | ours | unit | ours / peer | note |");
        Console.WriteLine("| --- | --- | --- | ---: | ---: | --- | ---: | --- |");
        foreach (var r in rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Section} | {r.Config} | {r.Ours} | {Format(r.Peer)} | {Format(r.Value)} | {r.Unit} | {(r.Peer > 0 ? (r.Value / r.Peer).ToString("F2", CultureInfo.InvariantCulture) + "×" : "–")} | {r.Note} |"));
    }

    // ONNX Runtime's worker threads spin after each run: every TorchSharp timing of a section runs before its first ORT run.
    private static void Forward(List<Row> rows, Func<string, string, string, double> peer)
    {
        var block = PeerModels.Block("cap0.9", Features, Hidden);
        var cases = new[] { (Batch: 1, Inner: 200, Reps: 60), (Batch: 1024, Inner: 2, Reps: 15) }
            .Select(c => (c.Batch, c.Inner, c.Reps, X: randn(c.Batch, Features))).ToArray();
        var torchTimes = cases.Select(c => Timing.Of(() =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            block.forward(c.X);
        }, 50, c.Reps, c.Inner)).ToArray();
        using var session = new InferenceSession(ResidualStackExporter.ExportForward(new ResidualStack([block])).ToBytes());
        for (var i = 0; i < cases.Length; i++)
        {
            var (batch, inner, reps, x) = cases[i];
            var feeds = Feeds("x", x);
            var ortTime = Timing.Of(() => { using var r = session.Run(feeds); }, 50, reps, inner);
            var peerUs = peer("a_forward_nograd", $"cap0.9 batch={batch}", "us");
            var flops = 2.0 * 2 * batch * Features * Hidden;
            var note = batch == 1024 ? $"TorchSharp {flops / torchTimes[i].Median / 1e9:F0}, ORT {flops / ortTime.Median / 1e9:F0} GFLOP/s" : "";
            rows.Add(new Row("a forward", $"cap0.9 batch={batch}", "TorchSharp", peerUs, torchTimes[i].Median * 1e6, "µs", note));
            rows.Add(new Row("a forward", $"cap0.9 batch={batch}", "ONNX Runtime", peerUs, ortTime.Median * 1e6, "µs"));
        }
    }

    private static void Inverse(List<Row> rows, Func<string, string, string, double> peer)
    {
        var cases = new List<(string Mode, int Batch, ResidualBlock Block, Tensor Y)>();
        foreach (var mode in PeerModels.BlockModes)
        {
            var block = PeerModels.Block(mode, Features, Hidden);
            foreach (var batch in new[] { 1, 1024 })
            {
                manual_seed(1);
                using var _ = no_grad();
                cases.Add((mode, batch, block, block.forward(randn(batch, Features))));
            }
        }
        foreach (var (mode, batch, block, y) in cases)
        {
            var config = $"{mode} batch={batch}";
            foreach (var solver in new[] { FixedPointSolverKind.Picard, FixedPointSolverKind.Adaptive })
            {
                // The peer stops at max |x_new − x| < 1e-5; ours at ‖f(x) − x‖₂ ≤ 1e-5 per row (slightly stricter).
                var options = new ImplicitOptions
                {
                    Forward = new FixedPointOptions { Solver = solver, Tolerance = 0, AbsoluteTolerance = 1e-5, MaxIterations = 1000 },
                };
                int iterations;
                using (no_grad())
                    iterations = block.InverseWithStatistics(y, options).Solves[0].Forward.Iterations;
                void Run()
                {
                    using var scope = NewDisposeScope();
                    using var _ = no_grad();
                    block.Inverse(y, options);
                }
                var time = Timing.Of(Run, 5, Timing.RepsFor(Run));
                rows.Add(new Row("b inverse", config, $"TorchSharp {solver}", peer("b_inverse_fixedpoint", config, "us"), time.Median * 1e6, "µs",
                    string.Create(CultureInfo.InvariantCulture, $"{iterations} it. (peer {peer("b_inverse_fixedpoint", config, "iterations")})")));
            }
        }
        foreach (var (mode, batch, block, y) in cases)
        foreach (var solver in Enum.GetValues<OnnxLoopSolver>())
        {
            var config = $"{mode} batch={batch}";
            using var session = new InferenceSession(ResidualStackExporter.ExportInverse(new ResidualStack([block]),
                new OnnxExportOptions { Tolerance = 0, AbsoluteTolerance = 1e-5, MaxIterations = 1000, Solver = solver }).ToBytes());
            var feeds = Feeds("y", y);
            long iterations;
            using (var results = session.Run(feeds))
                iterations = results.First(r => r.Name == "iterations").AsTensor<long>().Max();
            void RunOrt() { using var r = session.Run(feeds); }
            var ortTime = Timing.Of(RunOrt, 5, Timing.RepsFor(RunOrt));
            rows.Add(new Row("b inverse", config, $"ONNX Runtime ({solver} Loop)", peer("b_inverse_fixedpoint", config, "us"), ortTime.Median * 1e6, "µs",
                string.Create(CultureInfo.InvariantCulture, $"{iterations} it. (peer {peer("b_inverse_fixedpoint", config, "iterations")})")));
        }
    }

    private static void InverseBackward(List<Row> rows, Func<string, string, string, double> peer)
    {
        foreach (var k in new[] { 10, 100 })
        {
            var step = new InverseBackwardStep(BackwardMode.Implicit, k);
            var time = Timing.Of(step.Run, 2, k == 10 ? 20 : 8);
            var config = $"K={k} batch=256";
            rows.Add(new Row("c inverse + backward", config, "TorchSharp implicit", peer("c_unrolled_backward", config, "ms"), time.Median * 1e3, "ms",
                "peer unrolls K iterations; ours: K forward iterations, adjoint solve to 1e-6"));
            rows.Add(new Row("c inverse + backward", config, "TorchSharp implicit", peer("c_unrolled_backward", config, "MiB_peakRSS_over_baseline"),
                PeakMemory.Child("inverse", nameof(BackwardMode.Implicit), k), "MiB peak over baseline"));
        }
    }

    private static void FlowTraining(List<Row> rows, Func<string, string, string, double> peer, string sections)
    {
        const int batch = 256;
        var pool = PeerModels.EightGaussiansPool(batch);
        const string config = "blocks=4 d=2 hidden=64 batch=256 n=5 probes=1";
        var peerD = peer("d_flow_train_step", config, "ms");
        var peerF = peer("f_flow_train_step_sn", config, "ms");
        foreach (var (name, build) in new (string, Func<InvertibleResNetFlow>)[] { ("peer's configuration", PeerModels.PeerFlow), ("toy-density flow", PeerModels.ToyFlow) })
        {
            manual_seed(0);
            var flow = build();
            flow.Generator = new Generator(0);
            // The library's optimiser (what Trainer.Fit runs): Adam over flat buffers.
            using var optimizer = new FlatAdam(flow.parameters(), 1e-3);
            var i = 0;
            void Step()
            {
                using var scope = NewDisposeScope();
                var x = pool.narrow(0, i++ % 16 * batch, batch);
                optimizer.ZeroGrad();
                flow.LogProb(x).mean().neg().backward();
                optimizer.Step();
            }
            var time = Timing.Of(Step, 10, 60);
            var ours = $"TorchSharp, {name}";
            if (sections.Contains('f'))
                rows.Add(new Row("f flow step, spectral norm", config, ours, peerF, time.Median * 1e3, "ms", "one power iteration per Linear per step on both sides" + (name == "toy-density flow" ? " (ours: 5, depth 3, exact log-det, ActNorm)" : "")));
            if (sections.Contains('d'))
                rows.Add(new Row("d flow step", config, ours, peerD, time.Median * 1e3, "ms", "peer without per-step spectral norm; ours always normalises"));
        }
    }

    private static void Gemm(List<Row> rows, Func<string, string, string, double> peer, double peak)
    {
        foreach (var (m, k, n, reps, inner) in new[] { (1024, 64, 256, 40, 20), (2048, 2048, 2048, 5, 1) })
        {
            var a = randn(m, k);
            var b = randn(k, n);
            var time = Timing.Of(() => { using var scope = NewDisposeScope(); a.mm(b); }, 1, reps, inner);
            var config = $"{m}x{k}@{k}x{n}";
            rows.Add(new Row("e GEMM", config, "TorchSharp mm", peer("e_gemm_mm", config, "GFLOP/s"), 2.0 * m * k * n / time.Median / 1e9, "GFLOP/s",
                string.Create(CultureInfo.InvariantCulture, $"peak (FMA loop) {peak:F0}")));
        }
    }

    private static List<NamedOnnxValue> Feeds(string name, Tensor x) =>
        [NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(x.data<float>().ToArray(), [(int)x.shape[0], (int)x.shape[1]]))];

    private static string Format(double value) => double.IsNaN(value) ? "–" : value.ToString(value >= 100 ? "F0" : "G3", CultureInfo.InvariantCulture);

    private static string? Option(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
