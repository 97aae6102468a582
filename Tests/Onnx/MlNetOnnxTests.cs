using System.Globalization;
using Invertible.Tests.Support;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using Invertible.Torch.Onnx;
using Invertible.Torch.Supervised;
using Invertible.Torch;
using Microsoft.ML.Data;
using Microsoft.ML;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Tests.Onnx;

/// <summary>Every exported kind runs inside an ML.NET pipeline (ApplyOnnxModel) and reproduces ONNX Runtime's outputs.</summary>
[TestClass]
public sealed class MlNetOnnxTests
{
    private sealed class InputRow
    {
        public float[] Features { get; set; } = [];
    }

    /// <summary>Runs <paramref name="model"/> through ApplyOnnxModel on the rows of <paramref name="input"/> and returns each output column.</summary>
    private static Dictionary<string, float[][]> RunInMlNet(ModelProto model, string inputName, string[] outputs, Tensor input)
    {
        var path = Path.Combine(Path.GetTempPath(), $"invertible-{Guid.NewGuid():N}.onnx");
        model.Save(path);
        try
        {
            var context = new MLContext(seed: 1);
            var width = (int)input.shape[1];
            var schema = SchemaDefinition.Create(typeof(InputRow));
            schema[nameof(InputRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
            var rows = Enumerable.Range(0, (int)input.shape[0]).Select(i => new InputRow { Features = input[i].data<float>().ToArray() }).ToList();
            var data = context.Data.LoadFromEnumerable(rows, schema);
            var pipeline = context.Transforms.CopyColumns(inputName, nameof(InputRow.Features))
                .Append(context.Transforms.ApplyOnnxModel(outputs, [inputName], path));
            var transformed = pipeline.Fit(data).Transform(data);
            return outputs.ToDictionary(name => name, name => ReadColumn(transformed, name));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static float[][] ReadColumn(IDataView view, string name)
    {
        var type = view.Schema[name].Type;
        var itemType = type is VectorDataViewType vector ? vector.ItemType : type;
        if (itemType == NumberDataViewType.Int64)
            return view.GetColumn<long[]>(name).Select(r => r.Select(v => (float)v).ToArray()).ToArray();
        if (itemType == BooleanDataViewType.Instance)
            return view.GetColumn<bool[]>(name).Select(r => r.Select(v => v ? 1f : 0f).ToArray()).ToArray();
        return view.GetColumn<float[]>(name).ToArray();
    }

    /// <summary>Checks that ML.NET reproduces ONNX Runtime's outputs and returns them as [rows, width] tensors.</summary>
    private static Dictionary<string, Tensor> AssertSame(ModelProto model, string inputName, Tensor input, string[] outputs)
    {
        var reference = OnnxRunner.Run(model, (inputName, input));
        var viaMlNet = RunInMlNet(model, inputName, outputs, input);
        var actual = outputs.ToDictionary(name => name, name => tensor(viaMlNet[name].SelectMany(r => r).ToArray()).reshape(input.shape[0], -1));
        foreach (var name in outputs)
            Check.TensorsClose(actual[name], reference[name].to(ScalarType.Float32).reshape(input.shape[0], -1), 1e-6, $"{model.Metadata()["invertible.kind"]}: ML.NET output {name}");
        return actual;
    }

    [TestMethod]
    public void EveryExportedKind_RunsInAnMlNetPipeline()
    {
        manual_seed(141);
        var stack = ResidualStack.Create(4, 2, new ResidualBlockOptions { HiddenFeatures = 16, Coefficient = 0.9 });
        stack.eval();
        var x = randn(9, 4);
        AssertSame(ResidualStackExporter.ExportForward(stack), "x", x, ["y"]);
        AssertSame(ResidualStackExporter.ExportInverse(stack), "y", x, ["x", "iterations", "residual", "converged"]);

        var flow = new InvertibleResNetFlow(4, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 16, InvertibleLinear = true });
        flow.forward(randn(64, 4));
        flow.eval();
        AssertSame(FlowExporter.ExportForward(flow), "x", x, ["latent", "log_likelihood"]);
        AssertSame(FlowExporter.ExportInverse(flow), "latent", x, ["x", "iterations", "residual", "converged"]);

        var network = new EquilibriumNetwork(4, 3, SupervisedTask.MulticlassClassification, new EquilibriumNetworkOptions { StateFeatures = 8, InjectionFeatures = 8 });
        network.eval();
        AssertSame(EquilibriumExporter.Export(network), "x", x, ["scores", "probabilities", "predicted_label", "iterations", "residual", "converged"]);
    }

    [TestMethod]
    public void CappedLoops_ReportEveryRowNotConverged_ThroughMlNet()
    {
        manual_seed(142);
        var x = randn(9, HardModels.Features);
        var models = new (ModelProto Model, string Input, string Solution)[]
        {
            (ResidualStackExporter.ExportInverse(HardModels.Stack(), HardModels.TwoIterations), "y", "x"),
            (FlowExporter.ExportInverse(HardModels.Flow(), HardModels.TwoIterations), "latent", "x"),
            (EquilibriumExporter.Export(HardModels.Equilibrium(), HardModels.TwoIterations), "x", "scores"),
        };
        foreach (var (model, input, solution) in models)
        {
            var kind = model.Metadata()["invertible.kind"];
            var tolerance = double.Parse(model.Metadata()["invertible.tolerance"], CultureInfo.InvariantCulture);
            var outputs = AssertSame(model, input, x, [solution, "iterations", "residual", "converged"]);
            Assert.IsTrue(outputs["iterations"].eq(2).all().item<bool>(), $"{kind}: every row ran the two iterations of the cap");
            Assert.IsTrue(outputs["converged"].eq(0).all().item<bool>(), $"{kind}: no row is reported converged");
            Check.Less(100 * tolerance, outputs["residual"].min().ToDouble(), $"{kind}: the smallest residual, in units of the tolerance ×100");
        }
    }
}
