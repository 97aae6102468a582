using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Invertible.Tests.Support;

namespace Invertible.Tests.Packaging;

/// <summary>
/// The product installed the way a user installs it: both packages packed into a local folder feed, a fresh console
/// project that references Invertible.ML by version (not by project), a minimal ML.NET pipeline run from it.
/// </summary>
[TestClass]
public sealed class PackageConsumerTests
{
    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public void PackedPackages_RunAnMlNetPipeline_InAFreshConsoleProject()
    {
        var root = Processes.RepositoryRoot;
        var work = Directory.CreateTempSubdirectory("package-consumer-").FullName;
        // A version no earlier run used, so NuGet's global cache cannot hand back a stale package.
        var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var feed = Directory.CreateDirectory(Path.Combine(work, "feed")).FullName;
        try
        {
            foreach (var project in new[] { "Invertible.Torch", "Invertible.ML" })
                Run(root, "dotnet", "pack", Path.Combine(root, project, project + ".csproj"), "-c", "Release", "-o", feed, $"-p:Version={version}");
            CheckPackage(Path.Combine(feed, $"Invertible.ML.{version}.nupkg"), "lib/net10.0/Invertible.ML.dll", "lib/net10.0/Invertible.ML.xml", "README.md", "LICENSE");
            CheckPackage(Path.Combine(feed, $"Invertible.Torch.{version}.nupkg"), "lib/net10.0/Invertible.Torch.dll", "lib/net10.0/Invertible.Torch.xml", "README.md", "LICENSE");
            Assert.IsTrue(File.Exists(Path.Combine(feed, $"Invertible.ML.{version}.snupkg")), "symbols package");

            var app = Directory.CreateDirectory(Path.Combine(work, "app")).FullName;
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Invertible.ML" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using Invertible.ML.Checks;
                using Microsoft.ML;
                using Microsoft.ML.Data;

                var context = new MLContext(seed: 1);
                var random = new Random(1);
                var rows = Enumerable.Range(0, 400).Select(_ => new Row { Features = [(float)random.NextDouble(), (float)(random.NextDouble() * 2)] }).ToList();
                var data = context.Data.LoadFromEnumerable(rows);
                var flow = context.Transforms.InvertibleResNet(new Invertible.ML.Flows.InvertibleResNetOptions { Epochs = 2 }).Fit(data);
                var logLikelihood = flow.Transform(data).GetColumn<float>("LogLikelihood").Average();
                var error = TransformerChecks.RoundTrip(flow, data);
                Console.WriteLine(FormattableString.Invariant($"mean log-likelihood {logLikelihood:F4}; round-trip error {error:E2}"));

                public sealed class Row
                {
                    [VectorType(2)]
                    public float[] Features { get; set; } = [];
                }
                """);
            var output = Run(app, "dotnet", "run", "-c", "Release");
            var line = output.Split('\n').Single(l => l.StartsWith("mean log-likelihood", StringComparison.Ordinal));
            var parts = line.Split(' ', ';');
            var logLikelihood = double.Parse(parts[2], CultureInfo.InvariantCulture);
            Assert.IsTrue(double.IsFinite(logLikelihood) && logLikelihood < 0 && logLikelihood > -10, line);
            Assert.IsTrue(double.Parse(parts[^1], CultureInfo.InvariantCulture) <= 1e-4, line);
            Assert.IsFalse(File.Exists(Path.Combine(app, "obj", "project.assets.json"))
                && File.ReadAllText(Path.Combine(app, "obj", "project.assets.json")).Contains("\"type\": \"project\"", StringComparison.Ordinal),
                "the app references packages, not projects");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
            var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (var id in new[] { "invertible.ml", "invertible.torch" })
            {
                var cached = Path.Combine(cache, id, version);
                if (Directory.Exists(cached))
                    Directory.Delete(cached, recursive: true);
            }
        }
    }

    private static void CheckPackage(string path, params string[] entries)
    {
        Assert.IsTrue(File.Exists(path), $"package {path}");
        using var zip = ZipFile.OpenRead(path);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet();
        foreach (var entry in entries)
            Assert.IsTrue(names.Contains(entry), $"{Path.GetFileName(path)} holds {entry}; it has {string.Join(", ", names)}");
        var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var reader = new StreamReader(nuspec.Open());
        var text = reader.ReadToEnd();
        foreach (var element in new[] { "<license type=\"expression\">MIT</license>", "<description>", "<tags>", "<readme>README.md</readme>" })
            StringAssert.Contains(text, element, $"{Path.GetFileName(path)} metadata");
    }

    private static string Run(string directory, string file, params string[] arguments)
    {
        var (code, output, error) = Processes.Run(file, arguments, directory);
        Assert.AreEqual(0, code, $"{file} {string.Join(' ', arguments)}:\n{output}\n{error}");
        return output;
    }
}
