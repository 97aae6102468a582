using System.Runtime.InteropServices;

namespace Invertible.Tests.Support;

/// <summary>
/// Memory the C heap keeps after it is freed: many 64 KiB blocks (below glibc's mmap threshold, so they come from the
/// heap), every page written, then all freed but the last, which pins them below the heap's top so that
/// <c>free</c> cannot return them — the shape of a burst in a training loop. Dispose frees the last block.
/// </summary>
internal sealed class HeapFragment : IDisposable
{
    private const int BlockBytes = 64 * 1024;
    private static readonly byte[] Ones = Enumerable.Repeat((byte)1, BlockBytes).ToArray();
    private nint anchor;

    public HeapFragment(long bytes)
    {
        var blocks = new nint[bytes / BlockBytes];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(BlockBytes);
            Marshal.Copy(Ones, 0, blocks[i], BlockBytes);
        }
        for (var i = 0; i < blocks.Length - 1; i++)
            Marshal.FreeHGlobal(blocks[i]);
        anchor = blocks[^1];
    }

    public void Dispose()
    {
        if (anchor != 0)
            Marshal.FreeHGlobal(anchor);
        anchor = 0;
    }
}
