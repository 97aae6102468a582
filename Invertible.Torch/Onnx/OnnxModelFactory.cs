using System.Globalization;
using System.Reflection;
using Invertible.Torch.Core;
using Onnx;

namespace Invertible.Torch.Onnx;

/// <summary>Wraps a graph into a model with the opset, IR version and the product's metadata.</summary>
internal static class OnnxModelFactory
{
    /// <param name="graph">The finished graph.</param>
    /// <param name="options">Opset.</param>
    /// <param name="kind">Model kind, recorded as "invertible.kind".</param>
    /// <param name="loop">The stopping rule of the graph's fixed-point loops, recorded in the metadata; null without loops.</param>
    /// <param name="metadata">The meaning of every input and output.</param>
    public static ModelProto Create(OnnxGraphBuilder graph, OnnxExportOptions options, string kind, LoopSettings? loop, IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ModelProto
        {
            IrVersion = options.IrVersion,
            ProducerName = "Invertible.ML",
            ProducerVersion = typeof(OnnxModelFactory).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0",
            Domain = "ml.invertible",
            ModelVersion = 1,
            DocString = $"Invertible.ML {kind}",
            Graph = WithoutUnusedInitializers(graph.Build()),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        var properties = new Dictionary<string, string>(metadata) { ["invertible.kind"] = kind };
        if (loop is { } settings)
        {
            properties["invertible.tolerance"] = settings.Tolerance.ToString("R", CultureInfo.InvariantCulture);
            properties["invertible.absolute_tolerance"] = settings.AbsoluteTolerance.ToString("R", CultureInfo.InvariantCulture);
            properties["invertible.max_iterations"] = settings.MaxIterations.ToString(CultureInfo.InvariantCulture);
            properties["invertible.solver"] = settings.Solver.ToString();
            properties["invertible.stopping_rule"] = "a row stops when ‖f(x) − x‖ ≤ tolerance · ‖f(x)‖ + absolute_tolerance";
        }
        foreach (var (key, value) in properties)
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    /// <summary>
    /// Drops the initializers no node reads (in the graph or its loop bodies) and no output names: a formula folded over
    /// weights (e.g. ActNorm's exp(s) spread over pixels) leaves its inputs' initializers behind, which ONNX Runtime would
    /// warn about on every load.
    /// </summary>
    internal static GraphProto WithoutUnusedInitializers(GraphProto graph)
    {
        var used = new HashSet<string>();
        void Collect(GraphProto g)
        {
            used.UnionWith(g.Output.Select(o => o.Name));
            foreach (var node in g.Node)
            {
                used.UnionWith(node.Input);
                foreach (var attribute in node.Attribute)
                {
                    if (attribute.G is { } body)
                        Collect(body);
                    foreach (var nested in attribute.Graphs)
                        Collect(nested);
                }
            }
        }
        void Prune(GraphProto g)
        {
            foreach (var unused in g.Initializer.Where(i => !used.Contains(i.Name)).ToList())
                g.Initializer.Remove(unused);
            foreach (var attribute in g.Node.SelectMany(n => n.Attribute))
            {
                if (attribute.G is { } body)
                    Prune(body);
                foreach (var nested in attribute.Graphs)
                    Prune(nested);
            }
        }
        Collect(graph);
        Prune(graph);
        return graph;
    }

    /// <summary>Declares the per-row solver outputs "iterations" (int64), "residual" (float) and "converged" (bool).</summary>
    public static void SolverOutputs(OnnxGraphBuilder g, string iterations, string residual, string converged)
    {
        g.Output("iterations", iterations, TensorProto.Types.DataType.Int64, [null]);
        g.Output("residual", residual, TensorProto.Types.DataType.Float, [null]);
        g.Output("converged", converged, TensorProto.Types.DataType.Bool, [null]);
    }
}
