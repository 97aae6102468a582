using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Invertible.Torch.Core;

/// <summary>Functions that the libtorch TorchSharp loads exports but TorchSharp does not wrap, found by their mangled names.</summary>
internal static class LibTorchExports
{
    /// <summary>The address of the first of <paramref name="symbols"/> (manglings of one function) that libtorch exports;
    /// <see cref="IntPtr.Zero"/> if none is, or libtorch cannot be loaded.</summary>
    public static IntPtr Resolve(params string[] symbols)
    {
        try
        {
            _ = zeros(1); // makes TorchSharp load libtorch first
            foreach (var name in new[] { "libtorch_cpu.so", "libtorch_cpu.dylib", "torch_cpu.dll" })
            {
                if (!NativeLibrary.TryLoad(name, typeof(LibTorchExports).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.AssemblyDirectory, out var library))
                    continue;
                foreach (var symbol in symbols)
                    if (NativeLibrary.TryGetExport(library, symbol, out var export))
                        return export;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or EntryPointNotFoundException or TypeInitializationException)
        {
        }
        return IntPtr.Zero;
    }
}
