using static TorchSharp.torch;

namespace Invertible.ML.Data;

/// <summary>The one conversion between row-major float batches and tensors, at the edge of every batched function.</summary>
internal static class TensorRows
{
    /// <summary>A float32 [rows, width] tensor on <paramref name="device"/> holding a copy of <paramref name="values"/>.</summary>
    /// <remarks>
    /// The copy lands in memory libtorch allocated (aligned), never in a pinned managed array: CPU kernels peel
    /// unaligned heads differently, so a row's result would change in the last bit with where the GC put the array.
    /// </remarks>
    public static Tensor From(ReadOnlySpan<float> values, int rows, Device device)
    {
        var host = empty([rows, values.Length / rows], ScalarType.Float32);
        host.data<float>().CopyFrom(values, 0, 0);
        return device.type == TorchSharp.DeviceType.CPU ? host : host.to(device);
    }

    /// <summary>The values of a float tensor, row-major, on the host.</summary>
    public static float[] Floats(Tensor tensor) => tensor.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
}
