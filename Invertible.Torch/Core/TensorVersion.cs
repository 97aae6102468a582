using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Invertible.Torch.Core;

/// <summary>
/// libtorch's per-tensor version counter, which every in-place write bumps (optimiser steps, <c>copy_</c>,
/// <c>load_state_dict</c>, with or without gradients). TorchSharp does not expose it, so it is read through
/// <c>at::TensorBase::_version()</c>, exported by the libtorch that TorchSharp loads (a TorchSharp tensor handle is an
/// <c>at::Tensor*</c>). Caches of derived tensors compare versions instead of trusting callers to invalidate them.
/// </summary>
internal static unsafe class TensorVersion
{
    // Itanium (Linux, macOS) and MSVC manglings of `int64_t at::TensorBase::_version() const`.
    private static readonly string[] Symbols = ["_ZNK2at10TensorBase8_versionEv", "?_version@TensorBase@at@@QEBA_JXZ"];

    private static readonly delegate* unmanaged<IntPtr, long> Read = Resolve();

    /// <summary>Whether versions can be read; without them nothing is cached.</summary>
    public static bool Available => Read != null;

    /// <summary>The tensor's version: equal values mean no in-place write happened in between.</summary>
    public static long Of(Tensor tensor) => Read(tensor.Handle);

    private static delegate* unmanaged<IntPtr, long> Resolve()
    {
        try
        {
            _ = zeros(1); // makes TorchSharp load libtorch first
            foreach (var name in new[] { "libtorch_cpu.so", "libtorch_cpu.dylib", "torch_cpu.dll" })
            {
                if (!NativeLibrary.TryLoad(name, typeof(TensorVersion).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.AssemblyDirectory, out var library))
                    continue;
                foreach (var symbol in Symbols)
                    if (NativeLibrary.TryGetExport(library, symbol, out var export))
                        return (delegate* unmanaged<IntPtr, long>)export;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
        {
        }
        return null;
    }
}
