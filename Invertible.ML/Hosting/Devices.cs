using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.ML.Hosting;

/// <summary>libtorch devices by name, with a clear error where the process's libtorch lacks one.</summary>
internal static class Devices
{
    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    /// <exception cref="ArgumentException">Unknown name, or CUDA requested where libtorch has none.</exception>
    public static Device Resolve(string? name, string option = "Device")
    {
        var text = (name ?? "cpu").Trim().ToLowerInvariant();
        if (text == "cpu")
            return CPU;
        if (text == "cuda" || text.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new ArgumentException($"{option} '{name}' asks for CUDA, but this process's libtorch has no CUDA device (TorchSharp-cpu, or no GPU). Use \"cpu\", or reference TorchSharp-cuda on a machine with a GPU.", option);
            return new Device(text);
        }
        throw new ArgumentException($"{option} '{name}' is not a device name; use \"cpu\", \"cuda\" or \"cuda:N\".", option);
    }
}
