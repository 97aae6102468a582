using Google.Protobuf;
using Invertible.ML.Flows;
using Invertible.ML.Trainers;
using Invertible.Tests.Support;
using Microsoft.ML;
using Microsoft.ML.Data;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Tests.ML;

/// <summary>
/// What a saved model gives back, column by column, for every entry point: <c>LoadInvertible</c> the fitted schema
/// exactly (typed transformers included); plain <c>Model.Load</c> (ONNX Runtime alone) the same columns, with each
/// scalar as a 1-element vector of its type (a key as a vector of keys), as docs/mlnet-guide.md says — and why ML.NET 6
/// leaves no other way.
/// </summary>
[TestClass]
public sealed class SavedSchemaTests
{
    private static string TempFile() => Path.Combine(Path.GetTempPath(), $"invertible-{Guid.NewGuid():N}.zip");

    private static IEnumerable<(string Entry, ITransformer Model, IDataView Data, Type Restored)> EntryPoints()
    {
        var context = new MLContext(3);
        var x = randn([200, 4], generator: new Generator(5));
        var values = x.data<float>().ToArray();
        var rows = Enumerable.Range(0, 200).Select(i =>
        {
            var features = values[(4 * i)..(4 * i + 4)];
            var high = features[0] + features[1] * features[1] > 0.8f;
            return new Row { Features = features, Label = high ? "high" : "low", Flag = high, Target = 2 * features[0] + features[2] };
        }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        var data = context.Transforms.Conversion.MapValueToKey("Label").Fit(context.Data.LoadFromEnumerable(rows, schema)).Transform(context.Data.LoadFromEnumerable(rows, schema));
        var quick = new DeepEquilibriumOptions { Epochs = 2, StateFeatures = 8, Members = 2 };
        var flow = context.Transforms.InvertibleResNet(new InvertibleResNetOptions { Epochs = 2, Blocks = 1, HiddenFeatures = 8 }).Fit(data);
        yield return ("flow", flow, data, typeof(InvertibleResNetTransformer));
        yield return ("inverse", flow.Inverse(), flow.Transform(data), typeof(InvertibleResNetInverseTransformer));
        yield return ("multiclass", context.MulticlassClassification.Trainers.DeepEquilibrium(quick).Fit(data), data, typeof(InvertibleMulticlassTransformer));
        yield return ("i-ResNet multiclass", context.MulticlassClassification.Trainers.InvertibleResNet(new InvertibleResNetTrainerOptions { Epochs = 2, Blocks = 1, Members = 2 }).Fit(data),
            data, typeof(InvertibleMulticlassTransformer));
        yield return ("binary", context.BinaryClassification.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { Epochs = 2, StateFeatures = 8, Members = 2, LabelColumnName = "Flag" }).Fit(data), data, typeof(InvertibleBinaryTransformer));
        yield return ("regression", context.Regression.Trainers.DeepEquilibrium(new DeepEquilibriumOptions { Epochs = 2, StateFeatures = 8, Members = 2, LabelColumnName = "Target" }).Fit(data), data, typeof(InvertibleRegressionTransformer));
        yield return ("anomaly", context.AnomalyDetection.Trainers.InvertibleResNet(new InvertibleResNetAnomalyOptions { Epochs = 2, Blocks = 1, HiddenFeatures = 8 }).Fit(data),
            data, typeof(InvertibleAnomalyTransformer));
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public string Label { get; set; } = "";
        public bool Flag { get; set; }
        public float Target { get; set; }
    }

    [TestMethod]
    public void LoadInvertible_GivesTheFittedSchema_AndPlainLoadTheDocumentedVectors_ForEveryEntryPoint()
    {
        var context = new MLContext(1);
        foreach (var (entry, model, data, restoredType) in EntryPoints())
        {
            var path = TempFile();
            try
            {
                context.Model.Save(model, data.Schema, path);
                var fitted = model.Transform(data).Schema;
                var full = context.Model.LoadInvertible(path, out _);
                Assert.IsInstanceOfType(full, restoredType, $"{entry}: LoadInvertible restores the typed transformer");
                var restored = full.Transform(data).Schema;
                var plain = context.Model.Load(path, out _).Transform(data).Schema;
                foreach (var column in fitted.Where(c => !c.IsHidden))
                {
                    Assert.AreEqual(column.Type.ToString(), restored[column.Name].Type.ToString(), $"{entry}, {column.Name}: LoadInvertible {column.Type} vs {restored[column.Name].Type}");
                    Assert.AreEqual(column.Type, restored[column.Name].Type, $"{entry}, {column.Name}: LoadInvertible ({column.Type.GetType().Name} vs {restored[column.Name].Type.GetType().Name})");
                    var added = data.Schema.GetColumnOrNull(column.Name) is not { IsHidden: false } passed || !passed.Type.Equals(column.Type);
                    // A key comes back through ML.NET's own MapValue → MapValueToKey, whose vector has no declared size.
                    var expected = !added || column.Type is VectorDataViewType ? column.Type
                        : column.Type is KeyDataViewType key ? new VectorDataViewType(key)
                        : new VectorDataViewType((PrimitiveDataViewType)column.Type, 1);
                    Assert.AreEqual(expected, plain[column.Name].Type, $"{entry}, {column.Name}: plain Load (a scalar comes back as a 1-element vector): expected {expected}, got {plain[column.Name].Type}");
                }
                CollectionAssert.AreEquivalent(fitted.Where(c => !c.IsHidden).Select(c => c.Name).ToArray(), plain.Where(c => !c.IsHidden).Select(c => c.Name).ToArray(), $"{entry}: plain Load's columns");
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>
    /// Why plain <c>Model.Load</c> cannot give scalars: ML.NET 6's <c>ApplyOnnxModel</c> types a rank-0 ONNX output as a
    /// scalar column but fails to read it, and a [1] output is a vector. When this test fails, ML.NET reads scalar
    /// outputs, and the saved stand-ins can declare them.
    /// </summary>
    [TestMethod]
    public void MlNet_CannotReadARankZeroOnnxOutput()
    {
        var context = new MLContext(1);
        var rows = MlData.From(context, ones(2, 3));
        var graph = new GraphProto { Name = "sum" };
        var input = new TensorShapeProto();
        input.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 3 });
        graph.Input.Add(new ValueInfoProto { Name = "Features", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = input } } });
        var sum = new NodeProto { OpType = "ReduceSum", Name = "sum" };
        sum.Input.Add("Features");
        sum.Output.Add("Total");
        sum.Attribute.Add(new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        graph.Node.Add(sum);
        graph.Output.Add(new ValueInfoProto { Name = "Total", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() } } });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });

        var scored = context.Transforms.ApplyOnnxModel(["Total"], ["Features"], new MemoryStream(model.ToByteArray()), shapeDictionary: null, gpuDeviceId: null, fallbackToCpu: false)
            .Fit(rows).Transform(rows);
        Assert.AreEqual(NumberDataViewType.Single, scored.Schema["Total"].Type, "the column is typed as a scalar");
        Assert.ThrowsExactly<InvalidOperationException>(() => scored.GetColumn<float>("Total").ToArray(), "but reading it fails inside ML.NET");
    }
}
