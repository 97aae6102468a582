namespace Invertible.Torch.Implicit;

/// <summary>
/// Errors raised inside the backward pass of an <see cref="ImplicitFunction"/>, kept per thread until they can be thrown.
/// </summary>
/// <remarks>
/// A .NET exception cannot travel through libtorch's autograd engine: thrown from a custom backward it ends the
/// process. So backward passes record failures here (a non-converged adjoint solve with <c>ThrowOnNonConvergence</c>,
/// or an unexpected error) and return zero gradients for the failed call; the next implicit call on the same thread,
/// and the training loop right after <c>backward()</c>, rethrow them through <see cref="ThrowIfAny"/>. libtorch runs
/// the CPU part of a backward pass on the thread that called <c>backward()</c>, so a failure is seen by that thread and
/// by no other: concurrent callers do not receive each other's failures.
/// </remarks>
public static class BackwardFailures
{
    [ThreadStatic]
    private static Exception? pending;

    /// <summary>Throws (and clears) the first failure this thread recorded since the last call, if any.</summary>
    public static void ThrowIfAny()
    {
        var failure = pending;
        pending = null;
        if (failure is not null)
            throw new InvalidOperationException($"A previous backward pass failed: {failure.Message}", failure);
    }

    internal static void Record(Exception failure) => pending ??= failure;
}
