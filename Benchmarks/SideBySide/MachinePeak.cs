using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Invertible.Benchmarks.SideBySide;

/// <summary>
/// The machine's measured fp32 peak: independent fused multiply-adds on 256-bit vectors, one thread per core, so every
/// GFLOP/s figure can be printed beside what this machine reached in the same run.
/// </summary>
internal static class MachinePeak
{
    /// <summary>GFLOP/s of the FMA loop on <see cref="Environment.ProcessorCount"/> threads (best of 5), or NaN without FMA.</summary>
    public static double FmaGigaflops()
    {
        if (!Fma.IsSupported)
            return double.NaN;
        const long iterations = 20_000_000;
        var threads = Environment.ProcessorCount;
        var best = 0.0;
        for (var round = 0; round < 5; round++)
        {
            var start = Stopwatch.GetTimestamp();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => Sink(Loop(iterations)));
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            // 12 accumulators × 8 lanes × 2 FLOP per FMA.
            best = Math.Max(best, threads * iterations * 12.0 * 8 * 2 / seconds / 1e9);
        }
        return best;
    }

    // Twelve independent chains cover the FMA latency (4 cycles) on two pipes.
    private static float Loop(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var a = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0,
            c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a); c2 = Fma.MultiplyAdd(c2, m, a);
            c3 = Fma.MultiplyAdd(c3, m, a); c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a);
            c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a); c8 = Fma.MultiplyAdd(c8, m, a);
            c9 = Fma.MultiplyAdd(c9, m, a); c10 = Fma.MultiplyAdd(c10, m, a); c11 = Fma.MultiplyAdd(c11, m, a);
        }
        var sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
        return Vector256.Sum(sum);
    }

    private static volatile float sink;

    private static void Sink(float value) => sink = value;
}
