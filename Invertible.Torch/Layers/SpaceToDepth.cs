using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// Invertible downsampling ("squeeze", i-ResNet and Glow): each 2×2 block of pixels becomes four channels, so an image
/// C × H × W becomes 4C × H/2 × W/2 — a permutation of the row's values (log|det| = 0) that lets the convolutions after it
/// see twice as far. Rows stay flat and channel-major.
/// </summary>
public sealed class SpaceToDepth : nn.Module<Tensor, (Tensor Output, Tensor LogDet)>, IClosedFormLayer
{
    /// <summary>Creates the layer for images of shape <paramref name="input"/> (even height and width).</summary>
    public SpaceToDepth(ImageShape input) : base(nameof(SpaceToDepth))
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Height % 2 != 0 || input.Width % 2 != 0)
            throw new ArgumentException($"Space-to-depth by 2 needs an even height and width, got {input}.", nameof(input));
        (Input, Output) = (input, new ImageShape(4 * input.Channels, input.Height / 2, input.Width / 2));
        RegisterComponents();
    }

    /// <summary>The images' shape before the layer.</summary>
    public ImageShape Input { get; }

    /// <summary>The images' shape after it: 4C × H/2 × W/2.</summary>
    public ImageShape Output { get; }

    /// <inheritdoc />
    public int Features => Input.Size;

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input) => forward(input);

    /// <inheritdoc />
    public override (Tensor Output, Tensor LogDet) forward(Tensor input)
    {
        Input.CheckRows(input, nameof(input));
        return ClosedFormLayer.Evaluate(this, input);
    }

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        Output.CheckRows(output, nameof(output));
        return new InverseResult(ClosedFormLayer.Invert(this, output), []);
    }

    T IClosedFormLayer.Forward<T>(ITensorAlgebra<T> ops, T input) => ops.SpaceToDepth(input, Input);

    T IClosedFormLayer.Inverse<T>(ITensorAlgebra<T> ops, T output) => ops.DepthToSpace(output, Input);

    /// <summary>A permutation: log|det| = 0.</summary>
    Tensor IClosedFormLayer.ConstantLogDet() => zeros([]);
}
