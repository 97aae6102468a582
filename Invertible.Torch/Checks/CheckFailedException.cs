namespace Invertible.Torch.Checks;

/// <summary>A property checked by one of the <c>Checks</c> helpers does not hold; the message says what was measured.</summary>
/// <remarks>Thrown (not asserted) so the helpers work in any test framework: MSTest, xUnit and NUnit all report an
/// unexpected exception as a failure with its message.</remarks>
public sealed class CheckFailedException(string message) : Exception(message);
