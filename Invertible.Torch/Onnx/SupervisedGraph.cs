using Invertible.Torch.Supervised;
using Onnx;

namespace Invertible.Torch.Onnx;

/// <summary>The outputs every supervised graph ends with, by task.</summary>
internal static class SupervisedGraph
{
    /// <summary>
    /// "scores" [batch, outputs]; multiclass adds "probabilities" (softmax) and "predicted_label" (int64 index of the
    /// largest score); binary adds "probability" and "predicted_label" [batch] — as <see cref="SupervisedPrediction"/>
    /// defines them. Records each output's meaning in <paramref name="metadata"/>.
    /// </summary>
    public static void EmitOutputs(OnnxGraphBuilder g, string scores, SupervisedTask task, int outputs, IDictionary<string, string> metadata)
    {
        g.Output("scores", scores, TensorProto.Types.DataType.Float, [null, outputs]);
        metadata["output.scores"] = task == SupervisedTask.Regression ? "predicted values" : "logits";
        metadata["task"] = task.ToString();
        var (_, probability, label) = SupervisedPrediction.Outputs(new OnnxAlgebra(g), task, scores);
        switch (task)
        {
            case SupervisedTask.MulticlassClassification:
                g.Output("probabilities", probability!, TensorProto.Types.DataType.Float, [null, outputs]);
                g.Output("predicted_label", label!, TensorProto.Types.DataType.Int64, [null]);
                metadata["output.probabilities"] = "softmax of the scores";
                metadata["output.predicted_label"] = "index of the largest score";
                break;
            case SupervisedTask.BinaryClassification:
                g.Output("probability", probability!, TensorProto.Types.DataType.Float, [null]);
                g.Output("predicted_label", label!, TensorProto.Types.DataType.Bool, [null]);
                metadata["output.probability"] = "probability of the positive class";
                metadata["output.predicted_label"] = "whether the probability exceeds 0.5 (the logit exceeds 0)";
                break;
        }
    }
}
