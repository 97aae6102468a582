using static TorchSharp.torch;

namespace Invertible.ML.Mapping;

/// <summary>The one conversion between row-major float batches and tensors, at the edge of every batched function.</summary>
internal static class TensorRows
{
    /// <summary>A float32 [rows, width] tensor on <paramref name="device"/> holding <paramref name="values"/>.</summary>
    public static Tensor From(ReadOnlySpan<float> values, int rows, Device device)
        => tensor(values.ToArray(), [rows, values.Length / rows], device: device);

    /// <summary>The values of a float tensor, row-major, on the host.</summary>
    public static float[] Floats(Tensor tensor) => tensor.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
}
