using Onnx;

namespace Invertible.Torch.Onnx;

/// <summary>Composes exported graphs: appends one model's graph to another graph, its names prefixed so they cannot clash.</summary>
public static class OnnxComposition
{
    /// <summary>
    /// Appends <paramref name="part"/>'s nodes and initializers to <paramref name="target"/>, every name prefixed with
    /// <paramref name="prefix"/> (loop bodies included), with each of <paramref name="part"/>'s inputs bound to a value of
    /// the target graph. Returns each of the part's outputs' names in the target graph.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Append(GraphProto target, ModelProto part, string prefix, IReadOnlyDictionary<string, string> inputs)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(part);
        foreach (var input in part.Graph.Input)
            if (!inputs.ContainsKey(input.Name))
                throw new ArgumentException($"Input '{input.Name}' of the appended graph is not bound.", nameof(inputs));
        string Rename(string name) => name.Length == 0 ? name : inputs.TryGetValue(name, out var bound) ? bound : prefix + name;
        var graph = part.Graph.Clone();
        RenameGraph(graph, Rename);
        target.Initializer.AddRange(graph.Initializer);
        target.Node.AddRange(graph.Node);
        return part.Graph.Output.ToDictionary(o => o.Name, o => Rename(o.Name));
    }

    private static void RenameGraph(GraphProto graph, Func<string, string> rename)
    {
        foreach (var value in graph.Input.Concat(graph.Output).Concat(graph.ValueInfo))
            value.Name = rename(value.Name);
        foreach (var initializer in graph.Initializer)
            initializer.Name = rename(initializer.Name);
        foreach (var node in graph.Node)
        {
            node.Name = rename(node.Name);
            for (var i = 0; i < node.Input.Count; i++)
                node.Input[i] = rename(node.Input[i]);
            for (var i = 0; i < node.Output.Count; i++)
                node.Output[i] = rename(node.Output[i]);
            foreach (var attribute in node.Attribute)
            {
                if (attribute.G is not null)
                    RenameGraph(attribute.G, rename);
                foreach (var subgraph in attribute.Graphs)
                    RenameGraph(subgraph, rename);
            }
        }
    }
}
