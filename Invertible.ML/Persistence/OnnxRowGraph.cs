using Invertible.Torch.Core;
using Onnx;

namespace Invertible.ML.Persistence;

/// <summary>
/// Rewrites an exported batch graph into the row form ML.NET's <c>ApplyOnnxModel</c> reads best: a rank-1 input
/// [d] (ML.NET feeds one row per call), outputs named after their columns, [batch, k] outputs squeezed to [k] (a
/// <c>Vector&lt;T, k&gt;</c> column) and [batch] outputs kept as [1] (ML.NET cannot read rank-0 outputs), each cast to
/// the element type its column has in the transformer.
/// </summary>
internal static class OnnxRowGraph
{
    public static ModelProto Adapt(ModelProto batch, string graphInput, string rowInput, IReadOnlyDictionary<string, string> outputs,
        IReadOnlyDictionary<string, int> elementTypes)
    {
        var model = batch.Clone();
        var graph = model.Graph;
        var input = graph.Input.Single(i => i.Name == graphInput);
        var width = input.Type.TensorType.Shape.Dim[1].DimValue;
        var taken = graph.Node.SelectMany(n => n.Output).Concat(graph.Initializer.Select(i => i.Name)).ToHashSet();
        foreach (var column in outputs.Values.Append(rowInput))
            if (taken.Contains(column))
                throw new InvalidOperationException($"The column name '{column}' collides with a value of the exported graph; choose another column name.");

        graph.Input.Remove(input);
        graph.Input.Add(ValueInfo(rowInput, input.Type.TensorType.ElemType, [width]));
        graph.Initializer.Add(AxisZero("row_axis"));
        graph.Node.Insert(0, Node("Unsqueeze", [rowInput, "row_axis"], graphInput));

        var batchOutputs = graph.Output.ToList();
        graph.Output.Clear();
        foreach (var (name, column) in outputs)
        {
            var output = batchOutputs.SingleOrDefault(o => o.Name == name)
                ?? throw new InvalidOperationException($"The exported graph has no output '{name}'.");
            var dims = output.Type.TensorType.Shape.Dim;
            var elementType = elementTypes.GetValueOrDefault(column, output.Type.TensorType.ElemType);
            var source = name;
            if (elementType != output.Type.TensorType.ElemType)
            {
                source = $"{name}_as_{column}";
                var cast = Node("Cast", [name], source);
                cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = elementType });
                graph.Node.Add(cast);
            }
            if (dims.Count == 2)
            {
                graph.Node.Add(Node("Squeeze", [source, "row_axis"], column));
                graph.Output.Add(ValueInfo(column, elementType, [dims[1].DimValue]));
            }
            else
            {
                graph.Node.Add(Node("Identity", [source], column));
                graph.Output.Add(ValueInfo(column, elementType, [1]));
            }
        }
        return model;
    }

    private static NodeProto Node(string op, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = $"row_{op.ToLowerInvariant()}_{output}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    private static TensorProto AxisZero(string name)
    {
        var axes = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        axes.Dims.Add(1);
        axes.Int64Data.Add(0);
        return axes;
    }

    private static ValueInfoProto ValueInfo(string name, int elementType, long[] shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = elementType, Shape = new TensorShapeProto() };
        foreach (var dim in shape)
            tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
