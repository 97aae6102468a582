using Invertible.Torch.Supervised;
using Onnx;

namespace Invertible.Torch.Onnx;

/// <summary>The outputs every supervised graph ends with, by task.</summary>
internal static class SupervisedGraph
{
    /// <summary>
    /// "scores" [batch, outputs]; multiclass adds "probabilities" (softmax) and "predicted_label" (int64 index of the
    /// largest score); binary adds "probability" [batch]. Records each output's meaning in <paramref name="metadata"/>.
    /// </summary>
    public static void EmitOutputs(OnnxGraphBuilder g, string scores, SupervisedTask task, int outputs, IDictionary<string, string> metadata)
    {
        g.Output("scores", scores, TensorProto.Types.DataType.Float, [null, outputs]);
        metadata["output.scores"] = task == SupervisedTask.Regression ? "predicted values" : "logits";
        metadata["task"] = task.ToString();
        switch (task)
        {
            case SupervisedTask.MulticlassClassification:
                g.Output("probabilities", g.Node("Softmax", [scores], null, OnnxGraphBuilder.Attribute("axis", 1L)), TensorProto.Types.DataType.Float, [null, outputs]);
                g.Output("predicted_label", g.Node("ArgMax", [scores], null, OnnxGraphBuilder.Attribute("axis", 1L), OnnxGraphBuilder.Attribute("keepdims", 0L)),
                    TensorProto.Types.DataType.Int64, [null]);
                metadata["output.probabilities"] = "softmax of the scores";
                metadata["output.predicted_label"] = "index of the largest score";
                break;
            case SupervisedTask.BinaryClassification:
                var logit = g.Node("Squeeze", [scores, g.Int64("axes", 1)]);
                g.Output("probability", g.Node("Sigmoid", [logit]), TensorProto.Types.DataType.Float, [null]);
                g.Output("predicted_label", g.Node("Greater", [logit, g.Scalar(0f, "zero")]), TensorProto.Types.DataType.Bool, [null]);
                metadata["output.probability"] = "probability of the positive class";
                metadata["output.predicted_label"] = "whether the probability exceeds 0.5 (the logit exceeds 0)";
                break;
        }
    }
}
