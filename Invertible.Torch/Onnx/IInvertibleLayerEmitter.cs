namespace Invertible.Torch.Onnx;

/// <summary>
/// Writes one kind of invertible layer into a graph: its forward map with its log-determinant, and its inverse. Built
/// for one layer by <see cref="OnnxEmitters"/>; its weights become initializers of the top-level graph, readable from
/// loop bodies.
/// </summary>
internal interface IInvertibleLayerEmitter
{
    /// <summary>y = F(x) and, when <paramref name="logDet"/> is set, log|det ∂y/∂x|.</summary>
    ForwardEmission EmitForward(OnnxGraphBuilder g, string x, bool logDet);

    /// <summary>x = F⁻¹(y), with the loop's per-row statistics when the inverse iterates.</summary>
    InverseEmission EmitInverse(OnnxGraphBuilder g, string y, LoopSettings loop);
}

/// <summary>A forward map's output and log-determinant: per row ([batch]) or a constant shared by every row.</summary>
internal readonly record struct ForwardEmission(string Output, string? RowLogDet = null, double ConstantLogDet = 0);

/// <summary>An inverse's result, and the fixed-point loop behind it if there is one.</summary>
internal readonly record struct InverseEmission(string Input, OnnxFixedPointLoop.Result? Loop = null);
