using System.Globalization;
using Google.Protobuf;
using Invertible.Torch.Core;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// A small builder over the ONNX protobuf classes: named inputs with a symbolic batch dimension, float32 initializers,
/// nodes with generated unique value names, and <c>Loop</c> bodies as nested builders that read outer-scope values.
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>Name of the symbolic batch dimension.</summary>
    public const string BatchDimension = "batch";

    private readonly GraphProto graph = new();
    private readonly NameScope names;

    /// <summary>Creates a top-level graph.</summary>
    public OnnxGraphBuilder(string name, int opset)
    {
        graph.Name = name;
        Opset = opset;
        names = new NameScope();
    }

    private OnnxGraphBuilder(string name, int opset, NameScope names)
    {
        graph.Name = name;
        Opset = opset;
        this.names = names;
    }

    /// <summary>The ai.onnx opset the graph targets (some operators changed their signature across opsets).</summary>
    public int Opset { get; }

    /// <summary>A fresh value name with the given stem.</summary>
    public string Fresh(string stem) => names.Next(stem);

    /// <summary>Declares a float input [batch, features].</summary>
    public string Input(string name, int features)
    {
        graph.Input.Add(ValueInfo(name, TensorProto.Types.DataType.Float, [null, features]));
        return name;
    }

    /// <summary>Declares a float input of the given shape (null: the symbolic batch dimension).</summary>
    public string Input(string name, long?[] shape)
    {
        graph.Input.Add(ValueInfo(name, TensorProto.Types.DataType.Float, shape));
        return name;
    }

    /// <summary>Declares an input of a loop body (no shape).</summary>
    internal string ScalarInput(string name, TensorProto.Types.DataType type)
    {
        graph.Input.Add(ValueInfo(name, type, []));
        return name;
    }

    /// <summary>Declares an input or output of a loop body without a fixed shape.</summary>
    internal string OpenInput(string name, TensorProto.Types.DataType type)
    {
        graph.Input.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type } } });
        return name;
    }

    /// <summary>Declares a graph output; <paramref name="shape"/> uses null for the batch dimension.</summary>
    public void Output(string name, string value, TensorProto.Types.DataType type, long?[] shape)
    {
        if (value != name)
            Node("Identity", [value], output: name);
        graph.Output.Add(ValueInfo(name, type, shape));
    }

    /// <summary>Declares a loop-body output without a fixed shape.</summary>
    internal void OpenOutput(string value, TensorProto.Types.DataType type)
        => graph.Output.Add(new ValueInfoProto { Name = value, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type } } });

    /// <summary>Adds a float32 initializer holding <paramref name="value"/>'s values.</summary>
    public string Initializer(string stem, Tensor value)
    {
        var name = Fresh(stem);
        using var _ = no_grad();
        var data = value.detach().to(ScalarType.Float32).contiguous().cpu();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(data.shape);
        proto.RawData = ByteString.CopyFrom(data.bytes);
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>A float32 scalar initializer.</summary>
    public string Scalar(float value, string stem = "scalar") => Initializer(stem, tensor(value));

    /// <summary>An int64 tensor initializer (shapes, axes, trip counts).</summary>
    public string Int64(string stem, params long[] values)
    {
        var name = Fresh(stem);
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>An int64 scalar initializer.</summary>
    public string Int64Scalar(string stem, long value)
    {
        var name = Fresh(stem);
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Int64Data.Add(value);
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>A bool scalar initializer (stored in the int32 field, as the format requires).</summary>
    public string BoolScalar(string stem, bool value)
    {
        var name = Fresh(stem);
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Bool };
        proto.Int32Data.Add(value ? 1 : 0);
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string op, string[] inputs, string? output = null, params AttributeProto[] attributes)
        => Node(op, inputs, 1, [output], attributes)[0];

    /// <summary>Adds a node with several outputs.</summary>
    public string[] Node(string op, string[] inputs, int outputs, string?[]? names = null, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.AddRange(inputs);
        var produced = Enumerable.Range(0, outputs).Select(i => names is not null && i < names.Length && names[i] is { } n ? n : Fresh(op.ToLowerInvariant())).ToArray();
        node.Output.AddRange(produced);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return produced;
    }

    /// <summary>A nested builder for a subgraph (Loop body) sharing this graph's name scope.</summary>
    internal OnnxGraphBuilder Subgraph(string name) => new(name, Opset, names);

    /// <summary>The finished graph.</summary>
    public GraphProto Build() => graph;

    /// <summary>An int attribute.</summary>
    public static AttributeProto Attribute(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto Attribute(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An ints attribute.</summary>
    public static AttributeProto Attribute(string name, long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A graph attribute.</summary>
    public static AttributeProto Attribute(string name, GraphProto value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = value };

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, long?[] shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto() };
        foreach (var dim in shape)
            tensorType.Shape.Dim.Add(dim is { } size ? new TensorShapeProto.Types.Dimension { DimValue = size } : new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    private sealed class NameScope
    {
        private readonly Dictionary<string, int> counters = [];

        public string Next(string stem)
        {
            counters.TryGetValue(stem, out var count);
            counters[stem] = count + 1;
            return string.Create(CultureInfo.InvariantCulture, $"{stem}_{count}");
        }
    }
}
