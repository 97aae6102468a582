using Invertible.Torch.Flows;
using Onnx;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>Exports an <see cref="InvertibleResNetClassifier"/>: the invertible feature map's forward, then the head (linear, plus its ReLU layer when it has one).</summary>
public static class ClassifierExporter
{
    /// <summary>
    /// Graph: input "x" [batch, features] → "scores" [batch, outputs]; multiclass adds "probabilities" and
    /// "predicted_label" (int64), binary adds "probability" and "predicted_label" (bool).
    /// </summary>
    public static ModelProto Export(InvertibleResNetClassifier model, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(model);
        using var mode = OnnxExportGuard.EvaluationMode(model);
        using var _ = no_grad();
        var g = new OnnxGraphBuilder("invertible_resnet_classifier", options.Opset);
        var x = g.Input("x", model.InputFeatures);
        // Zero padding as a product with [I 0]: no shape arithmetic in the graph.
        var padded = model.Width == model.InputFeatures ? x : g.MatMul(x, g.Initializer("padding", eye(model.InputFeatures, model.Width)));
        var (features, _) = new InvertibleGraph(g, model.FeatureMap).EmitForward(g, padded, withLogDet: false);
        var scores = g.Linear(features, model.Head.weight!, model.Head.bias, "head");
        if (model.HeadMlp is { } mlp)
            scores = g.Add(scores, g.Linear(g.Node("Relu", [g.Linear(features, mlp.Hidden.weight!, mlp.Hidden.bias, "head_hidden")]), mlp.Output.weight!, mlp.Output.bias, "head_output"));
        var metadata = new Dictionary<string, string> { ["input.x"] = "feature rows [batch, features]" };
        SupervisedGraph.EmitOutputs(g, scores, model.Task, model.Outputs, metadata);
        return OnnxModelFactory.Create(g, options, "invertible-resnet-" + model.Task.ToString().ToLowerInvariant(), null, metadata);
    }
}
