using Invertible.Torch.Core;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Flows;
using Invertible.Torch.Supervised;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Exports any supervised model of the product: "x" [batch, features] → "scores" [batch, outputs] and the task's outputs
/// (multiclass "probabilities" and "predicted_label"; binary "probability" and "predicted_label"); models with
/// equilibrium solves add "iterations", "residual" and "converged" per row.
/// </summary>
public static class SupervisedExporter
{
    /// <summary>The graph of <paramref name="model"/>: an ensemble, an equilibrium network or an i-ResNet classifier.</summary>
    /// <exception cref="NotSupportedException">A model kind without an exporter.</exception>
    public static ModelProto Export(ISupervisedModel model, OnnxExportOptions? options = null) => model switch
    {
        SupervisedEnsemble ensemble => ExportEnsemble(ensemble, options),
        EquilibriumMembers members => EquilibriumMembersExporter.Export(members, options),
        EquilibriumNetwork network => EquilibriumExporter.Export(network, options),
        InvertibleResNetClassifier classifier => ClassifierExporter.Export(classifier, options),
        null => throw new ArgumentNullException(nameof(model)),
        _ => throw new NotSupportedException($"{model.GetType().Name} has no ONNX exporter."),
    };

    /// <summary>
    /// An ensemble: the input scaling, each member's graph on the scaled input (appended under its own prefix), the mean
    /// of their scores mapped by the output transform; a row's "iterations" and "residual" are the largest over the
    /// members, "converged" whether every member's solve converged.
    /// </summary>
    private static ModelProto ExportEnsemble(SupervisedEnsemble ensemble, OnnxExportOptions? options)
    {
        (options ??= new OnnxExportOptions()).Validate();
        using var mode = OnnxExportGuard.EvaluationMode(ensemble);
        using var _ = no_grad();
        var g = new OnnxGraphBuilder("supervised_ensemble", options.Opset);
        var x = g.Input("x", ensemble.InputFeatures);
        var scaled = EmitScaling(g, ensemble.Scaling, x);
        var graph = g.Build();
        var (mean, solver, loop) = EmitMembers(g, graph, ensemble.Members, scaled, options);
        var final = g.Add(g.Mul(mean, g.Initializer("output_scale", ensemble.OutputScale)), g.Initializer("output_shift", ensemble.OutputShift));
        var metadata = new Dictionary<string, string>
        {
            ["input.x"] = "feature rows [batch, features]",
            ["members"] = ensemble.Members.Members.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        SupervisedGraph.EmitOutputs(g, final, ensemble.Task, ensemble.Outputs, metadata);
        if (solver is var (iterations, residual, converged))
        {
            metadata["output.iterations"] = "largest fixed-point iteration count of the members' equilibrium solves, per row";
            metadata["output.residual"] = "largest final residual of the members' equilibrium solves, per row: ‖f(z) − z‖ / (‖f(z)‖ + absolute_tolerance / tolerance), at most the tolerance exactly where converged";
            metadata["output.converged"] = "whether every member's equilibrium solve met the stopping rule for the row";
            OnnxModelFactory.SolverOutputs(g, iterations, residual, converged);
        }
        return OnnxModelFactory.Create(g, options, "ensemble-" + ensemble.Task.ToString().ToLowerInvariant(), loop, metadata);
    }

    /// <summary>The members' mean scores on the scaled input, and per row the solves' largest iterations and residual and
    /// whether all converged (null without solves).</summary>
    private static (string Mean, (string Iterations, string Residual, string Converged)? Solver, LoopSettings? Loop) EmitMembers(
        OnnxGraphBuilder g, GraphProto graph, IMemberModel members, string scaled, OnnxExportOptions options)
    {
        switch (members)
        {
            case ModelMembers models:
            {
                var scores = new List<string>();
                for (var k = 0; k < models.Members; k++)
                    scores.Add(OnnxComposition.Append(graph, Export(models.Model(k), options), $"member{k}_", new Dictionary<string, string> { ["x"] = scaled })["scores"]);
                var mean = scores.Count == 1 ? scores[0] : g.Mul(g.Node("Sum", [.. scores]), g.Scalar(1f / scores.Count, "member_weight"));
                return (mean, null, null);
            }
            case EquilibriumMembers network:
            {
                var outputs = OnnxComposition.Append(graph, EquilibriumMembersExporter.Export(network, options), "members_", new Dictionary<string, string> { ["x"] = scaled });
                return (outputs["scores"], (outputs["iterations"], outputs["residual"], outputs["converged"]), options.Loop(network.Layer.Options.Forward));
            }
            default:
                throw new NotSupportedException($"{members.GetType().Name} has no ONNX exporter.");
        }
    }

    /// <summary><see cref="InputScaling"/>: t = (x − μ) ⊙ s, then t / √(1 + (t / b)²).</summary>
    private static string EmitScaling(OnnxGraphBuilder g, InputScaling scaling, string x)
    {
        var t = g.Mul(g.Sub(x, g.Initializer("scaling_mean", scaling.Mean)), g.Initializer("scaling_inverse_scale", scaling.InverseScale));
        if (scaling.ClipBound is not { } bound)
            return t;
        var squared = g.Mul(g.Mul(t, t), g.Scalar((float)(1 / (bound * bound)), "clip_inverse_square"));
        return g.Div(t, g.Node("Sqrt", [g.Add(squared, g.Scalar(1f, "one"))]));
    }
}
