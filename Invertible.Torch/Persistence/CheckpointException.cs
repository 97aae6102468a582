namespace Invertible.Torch.Persistence;

/// <summary>A checkpoint could not be read: truncated, corrupted, of an unknown kind or version, or not matching its model.</summary>
public sealed class CheckpointException : IOException
{
    /// <summary>Creates the exception.</summary>
    public CheckpointException(string message, Exception? inner = null) : base(message, inner) { }
}
