using static TorchSharp.torch;

namespace Invertible.Torch.Core;

/// <summary>
/// libtorch's per-tensor version counter, which every in-place write bumps (optimiser steps, <c>copy_</c>,
/// <c>load_state_dict</c>, with or without gradients). TorchSharp does not expose it, so it is read through
/// <c>at::TensorBase::_version()</c>, exported by the libtorch that TorchSharp loads (a TorchSharp tensor handle is an
/// <c>at::Tensor*</c>). Caches of derived tensors compare versions instead of trusting callers to invalidate them.
/// A write that reaches a tensor's storage through another tensor — a flat optimiser buffer whose slices the parameters
/// were <c>set_</c> to — does not bump the tensor's own counter; the writer then calls <see cref="Bump"/>
/// (<c>torch::autograd::impl::bump_version</c>). Caching needs both functions.
/// </summary>
internal static unsafe class TensorVersion
{
    // Itanium (Linux, macOS) and MSVC manglings of `int64_t at::TensorBase::_version() const`.
    private static readonly string[] ReadSymbols = ["_ZNK2at10TensorBase8_versionEv", "?_version@TensorBase@at@@QEBA_JXZ"];

    // … of `void torch::autograd::impl::bump_version(const at::Tensor&)` (a reference is passed as the pointer).
    private static readonly string[] BumpSymbols = ["_ZN5torch8autograd4impl12bump_versionERKN2at6TensorE", "?bump_version@impl@autograd@torch@@YAXAEBVTensor@at@@@Z"];

    private static readonly delegate* unmanaged<IntPtr, long> Read = (delegate* unmanaged<IntPtr, long>)LibTorchExports.Resolve(ReadSymbols);

    private static readonly delegate* unmanaged<IntPtr, void> BumpVersion = (delegate* unmanaged<IntPtr, void>)LibTorchExports.Resolve(BumpSymbols);

    /// <summary>Whether versions can be read and bumped; without both nothing is cached.</summary>
    public static bool Available => Read != null && BumpVersion != null;

    /// <summary>The tensor's version: equal values mean no in-place write happened in between.</summary>
    public static long Of(Tensor tensor) => Read(tensor.Handle);

    /// <summary>Marks <paramref name="tensor"/> as written in place (its storage was changed through another tensor).</summary>
    public static void Bump(Tensor tensor)
    {
        if (BumpVersion != null)
            BumpVersion(tensor.Handle);
    }
}
