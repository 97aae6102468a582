using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Invertible.Torch.Core;

/// <summary>
/// Settings of libtorch's CPU convolution backends, applied when this assembly loads, before its first convolution.
/// <para>oneDNN is capped at AVX unless the process chose otherwise. On an AMD EPYC with AVX-512 (2 cores, libtorch
/// 2.10, oneDNN 3.7.1, 2 OpenMP threads) its AVX2 and AVX-512 kernels went wrong from run to run: the input gradient
/// (<c>conv_transpose2d</c>) of 2 → 8 channels on 6×6 images off by 14 to 50, and NaN weight gradients within a few Adam
/// steps of a convolutional residual block on 4×4 images; with one thread, or with the AVX or SSE4.1 kernels, both agree
/// with float64. Set <c>ONEDNN_MAX_CPU_ISA</c> (e.g. <c>ALL</c>) before the process starts to override the cap.</para>
/// <para>NNPACK is switched off where it cannot initialise (libtorch then warns once on every convolution: 485 000 lines
/// in one quickstart run on that host).</para>
/// </summary>
/// <remarks>oneDNN reads the variable from the C environment when it creates its first primitive, so it is set with
/// libc's <c>setenv</c> (.NET's environment is a managed copy on Unix); a convolution run before this assembly loads
/// keeps oneDNN's own choice.</remarks>
internal static unsafe partial class ConvolutionBackends
{
    /// <summary>The variable oneDNN reads.</summary>
    public const string Variable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The cap applied when the process sets none.</summary>
    public const string Cap = "AVX";

    /// <summary>The value in effect for oneDNN (the process's own, or <see cref="Cap"/>).</summary>
    public static string? Value => Environment.GetEnvironmentVariable(Variable);

#pragma warning disable CA2255 // The settings must precede libtorch's first convolution, which any type of this assembly may run.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Apply()
    {
        CapOneDnn();
        SwitchOffUnavailableNnpack();
    }

    private static void CapOneDnn()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)) || !string.IsNullOrEmpty(NativeValue()))
            return;
        Environment.SetEnvironmentVariable(Variable, Cap);
        if (!OperatingSystem.IsWindows())
            _ = SetNative(Variable, Cap, 0);
    }

    // at::native::_nnpack_available(), at::globalContext() and at::Context::setUserEnabledNNPACK(bool), Itanium manglings.
    private static void SwitchOffUnavailableNnpack()
    {
        var available = LibTorchExports.Resolve("_ZN2at6native17_nnpack_availableEv");
        var context = LibTorchExports.Resolve("_ZN2at13globalContextEv");
        var enable = LibTorchExports.Resolve("_ZN2at7Context20setUserEnabledNNPACKEb");
        if (available != IntPtr.Zero && context != IntPtr.Zero && enable != IntPtr.Zero && ((delegate* unmanaged<byte>)available)() == 0)
            ((delegate* unmanaged<IntPtr, byte, void>)enable)(((delegate* unmanaged<IntPtr>)context)(), 0);
    }

    private static string? NativeValue() => OperatingSystem.IsWindows() ? null : Marshal.PtrToStringUTF8(GetNative(Variable));

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetNative(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetNative(string name);
}
