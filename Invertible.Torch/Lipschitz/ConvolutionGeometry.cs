using Invertible.Torch.Core;

namespace Invertible.Torch.Lipschitz;

/// <summary>A same convolution's input and output image shapes and its zero padding (stride 1).</summary>
internal sealed record ConvolutionGeometry(ImageShape Input, ImageShape Output, int Padding);
