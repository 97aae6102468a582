using System.Diagnostics;

namespace Invertible.Tests.Support;

/// <summary>Runs the project's own programs (samples, the tool, dotnet itself) as separate processes, as users do.</summary>
internal static class Processes
{
    /// <summary>The repository: Tests/bin/{configuration}/net10.0/ is four levels below it.</summary>
    public static string RepositoryRoot => Output.Parent!.Parent!.Parent!.Parent!.FullName;

    private static DirectoryInfo Output => new(AppContext.BaseDirectory.TrimEnd('/'));

    /// <summary>The built <paramref name="assembly"/> of the project in <paramref name="projectFolder"/> (relative to the
    /// repository), in the tests' own configuration; the test project references it so that it is built.</summary>
    public static string Built(string projectFolder, string assembly)
    {
        var path = Path.Combine(RepositoryRoot, projectFolder, "bin", Output.Parent!.Name, Output.Name, assembly);
        Assert.IsTrue(File.Exists(path), $"built program at {path}");
        return path;
    }

    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/>; returns the exit code and both streams.</summary>
    public static (int ExitCode, string Output, string Error) Run(string file, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null)
            start.WorkingDirectory = workingDirectory;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }

    /// <summary>Runs the built .NET program <paramref name="program"/> and asserts that it succeeded; returns its output.</summary>
    public static string RunDotnet(string program, params string[] arguments)
    {
        var (code, output, error) = Run("dotnet", [program, .. arguments]);
        Assert.AreEqual(0, code, error + output);
        return output;
    }
}
