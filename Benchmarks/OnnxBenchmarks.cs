using Invertible.Torch.Lipschitz;
using BenchmarkDotNet.Attributes;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Flows;
using Invertible.Torch.Implicit;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using Invertible.Torch.Solvers;
using Invertible.Torch.Supervised;
using Invertible.Torch;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Invertible.Benchmarks;

/// <summary>The engine that evaluates an exported operation.</summary>
public enum Engine
{
    /// <summary>ONNX Runtime on the exported graph.</summary>
    OnnxRuntime,
    /// <summary>TorchSharp eager on the original model.</summary>
    TorchSharp,
}

/// <summary>What is evaluated.</summary>
public enum ExportedOperation
{
    /// <summary>One residual block forward, y = x + g(x).</summary>
    Forward,
    /// <summary>Its inverse by fixed-point iteration (Picard, tolerance 1e-6).</summary>
    Inverse,
    /// <summary>An equilibrium network (state 256): the solve plus projection and head.</summary>
    Equilibrium,
}

/// <summary>
/// ONNX Runtime vs TorchSharp eager at batch 1 and 1024 (d = 64, hidden 256), plus a plain 1024×256×64 GEMM in
/// TorchSharp as the yardstick for the forward's GFLOP/s (the forward does two such products: 67.1 MFLOP at batch 1024).
/// </summary>
public class OnnxBenchmarks
{
    private InferenceSession? session;
    private List<NamedOnnxValue> feeds = null!;
    private Action torchRun = null!;

    /// <summary>Engine.</summary>
    [Params(Engine.OnnxRuntime, Engine.TorchSharp)]
    public Engine Engine { get; set; }

    /// <summary>Operation.</summary>
    [Params(ExportedOperation.Forward, ExportedOperation.Inverse, ExportedOperation.Equilibrium)]
    public ExportedOperation Operation { get; set; }

    /// <summary>Rows per call.</summary>
    [Params(1, 1024)]
    public int Batch { get; set; }

    /// <summary>Builds the model, exports it and prepares inputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        manual_seed(12);
        var x = randn(Batch, 64);
        string inputName;
        Onnx.ModelProto model;
        if (Operation == ExportedOperation.Equilibrium)
        {
            var network = new EquilibriumNetwork(64, 10, SupervisedTask.MulticlassClassification,
                new EquilibriumNetworkOptions { StateFeatures = 256, InjectionFeatures = 256, Coefficient = 0.9, Activation = LipschitzActivation.Tanh });
            network.eval();
            network.Layer.Options = new EquilibriumOptions { Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard, Tolerance = 1e-6 } };
            model = EquilibriumExporter.Export(network);
            inputName = "x";
            torchRun = () => network.forward(x);
        }
        else
        {
            var stack = ResidualStack.Create(64, 1, new ResidualBlockOptions { HiddenFeatures = 256, Coefficient = 0.9 });
            stack.eval();
            var picard = new ImplicitOptions { Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Picard } };
            if (Operation == ExportedOperation.Forward)
            {
                model = ResidualStackExporter.ExportForward(stack);
                inputName = "x";
                torchRun = () => stack.forward(x);
            }
            else
            {
                model = ResidualStackExporter.ExportInverse(stack);
                inputName = "y";
                using (no_grad())
                    x = stack.forward(x);
                torchRun = () => stack.Inverse(x, picard);
            }
        }
        if (Engine == Engine.OnnxRuntime)
        {
            session = new InferenceSession(model.ToBytes());
            feeds = [NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(x.data<float>().ToArray(), [Batch, 64]))];
        }
    }

    /// <summary>One evaluation.</summary>
    [Benchmark]
    public void Evaluate()
    {
        if (session is not null)
        {
            using var results = session.Run(feeds);
            return;
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        torchRun();
    }

    /// <summary>Releases the session.</summary>
    [GlobalCleanup]
    public void Cleanup() => session?.Dispose();
}

/// <summary>The yardstick: a 1024×256 by 256×64 product in TorchSharp (33.6 MFLOP).</summary>
public class GemmBenchmarks
{
    private Tensor a = null!, b = null!;

    /// <summary>Allocates the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        a = randn(1024, 256);
        b = randn(256, 64);
    }

    /// <summary>One product.</summary>
    [Benchmark]
    public void Gemm()
    {
        using var scope = NewDisposeScope();
        a.mm(b);
    }
}
