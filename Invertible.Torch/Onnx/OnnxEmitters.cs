using Invertible.Torch.Layers;

namespace Invertible.Torch.Onnx;

/// <summary>The emitter of each layer kind: the one place that maps a layer to the code that writes it into a graph.</summary>
internal static class OnnxEmitters
{
    public static IInvertibleLayerEmitter For(IInvertibleLayer layer, OnnxGraphBuilder top, string stem) => layer switch
    {
        IClosedFormLayer closedForm => new ClosedFormLayerEmitter(closedForm, top, stem),
        InvertibleLinear linear => new InvertibleLinearEmitter(linear, top, stem),
        ResidualBlockBase block => new ResidualBlockEmitter(block, top, stem),
        LeadingFeatures leading => new LeadingFeaturesEmitter(leading, top, stem),
        _ => throw new NotSupportedException($"{stem} is a {layer.GetType().Name}, which has no ONNX emitter; exportable layers are closed-form layers (ActNorm, HouseholderReflection), InvertibleLinear, residual blocks and LeadingFeatures of these."),
    };
}
