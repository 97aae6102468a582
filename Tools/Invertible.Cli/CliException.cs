namespace Invertible.Cli;

/// <summary>A problem with the user's input or files: printed as one message, exit code 1, no stack trace.</summary>
internal sealed class CliException(string message) : Exception(message);
