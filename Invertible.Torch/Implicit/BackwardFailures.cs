namespace Invertible.Torch.Implicit;

/// <summary>
/// Errors raised inside the backward pass of an implicit layer, kept until they can be thrown.
/// </summary>
/// <remarks>
/// A .NET exception cannot travel through libtorch's autograd engine: thrown from a custom backward it ends the
/// process. So implicit backward passes record failures here (a non-converged adjoint solve with
/// <c>ThrowOnNonConvergence</c>, or an unexpected error) and return zero gradients for the failed call; the next
/// implicit forward pass, and the training loop right after <c>backward()</c>, rethrow them through
/// <see cref="ThrowIfAny"/>.
/// </remarks>
public static class BackwardFailures
{
    private static readonly object Gate = new();
    private static Exception? pending;

    /// <summary>Throws (and clears) the first failure recorded since the last call, if any.</summary>
    public static void ThrowIfAny()
    {
        Exception? failure;
        lock (Gate)
        {
            failure = pending;
            pending = null;
        }
        if (failure is not null)
            throw new InvalidOperationException($"A previous backward pass failed: {failure.Message}", failure);
    }

    internal static void Record(Exception failure)
    {
        lock (Gate)
            pending ??= failure;
    }
}
