using static TorchSharp.torch;

namespace Invertible.Torch.Core;

/// <summary>
/// A value derived from some tensors, kept while the same tensors (by reference) come back unchanged: none written in
/// place since, by their <see cref="TensorVersion"/>. Lock-free and safe for concurrent readers: an entry is immutable,
/// a racing rebuild only computes the same value twice, and a replaced value is left to the garbage collector rather
/// than disposed under a reader that may still hold it.
/// </summary>
public sealed class VersionedCache<T> where T : class
{
    private sealed record Entry(T Value, Tensor?[] Sources, long[] Versions);

    private volatile Entry? entry;

    /// <summary>Whether caching is possible here (versions readable); callers compute directly otherwise.</summary>
    public static bool Enabled => TensorVersion.Available;

    /// <summary>The cached value if it was derived from exactly <paramref name="sources"/>, unchanged; otherwise null.</summary>
    public T? TryGet(ReadOnlySpan<Tensor?> sources)
    {
        var current = entry;
        if (current is null || current.Sources.Length != sources.Length)
            return null;
        // References first: a tensor of an older call may be disposed, and only a live one has a version to read.
        for (var i = 0; i < sources.Length; i++)
            if (!ReferenceEquals(sources[i], current.Sources[i]))
                return null;
        for (var i = 0; i < sources.Length; i++)
            if (sources[i] is { } t && TensorVersion.Of(t) != current.Versions[i])
                return null;
        return current.Value;
    }

    /// <summary>Caches <paramref name="value"/> as derived from <paramref name="sources"/> at their current versions.</summary>
    public T Store(ReadOnlySpan<Tensor?> sources, T value)
    {
        var versions = new long[sources.Length];
        for (var i = 0; i < sources.Length; i++)
            versions[i] = sources[i] is { } t ? TensorVersion.Of(t) : 0;
        entry = new Entry(value, sources.ToArray(), versions);
        return value;
    }
}
