using System.Diagnostics;

namespace Invertible.Tests.Build;

/// <summary>
/// build/setup-native.sh takes the trixie source's mirror and keyring from the machine's Debian 12 source; these run
/// its <c>--print-source APT_DIR</c> mode as a real process on sample apt directories.
/// </summary>
[TestClass]
public sealed class SetupNativeTests
{
    private const string DefaultKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

    private static readonly string Script = Path.Combine(RepositoryRoot(), "build", "setup-native.sh");

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "InvertibleML.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no InvertibleML.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Writes <paramref name="files"/> (paths relative to the apt directory) and runs the script on them.</summary>
    private static (int ExitCode, string Output, string Error) PrintSource(params (string Path, string Text)[] files)
    {
        var aptDir = Directory.CreateTempSubdirectory("setup-native-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(aptDir, "sources.list.d"));
            foreach (var (path, text) in files)
                File.WriteAllText(Path.Combine(aptDir, path), text);
            using var process = Process.Start(new ProcessStartInfo("bash", [Script, "--print-source", aptDir])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            Assert.IsTrue(process.WaitForExit(10_000), "the script did not finish within 10 s");
            return (process.ExitCode, output, error.Result);
        }
        finally
        {
            Directory.Delete(aptDir, recursive: true);
        }
    }

    private static string TrixieStanza(string uri, string keyring) =>
        $"Types: deb\nURIs: {uri}\nSuites: trixie\nComponents: main\nSigned-By: {keyring}\n";

    private static void AssertPrints(string expected, (int ExitCode, string Output, string Error) result)
    {
        Assert.AreEqual(0, result.ExitCode, result.Error);
        Assert.AreEqual(expected, result.Output);
    }

    [TestMethod]
    public void Deb822_SkipsTheSecurityStanzaListedFirst_AndTakesTheMirrorAndKeyringOfTheBookwormStanza()
    {
        AssertPrints(TrixieStanza("http://mirror.example/debian", "/usr/share/keyrings/mirror.gpg"), PrintSource(
            ("sources.list.d/debian.sources", """
                Types: deb
                URIs: http://security.mirror.example/debian-security
                Suites: bookworm-security
                Components: main
                Signed-By: /usr/share/keyrings/security.gpg

                Types: deb
                # the snapshot this image was built from
                URIs: http://mirror.example/debian
                Suites: bookworm bookworm-updates
                Components: main contrib
                Signed-By: /usr/share/keyrings/mirror.gpg
                """)));
    }

    [TestMethod]
    public void Deb822_KeepsAProxyUriWithItsPort_TakesTheFirstOfSeveralUris_AndFallsBackToTheDebianKeyring()
    {
        AssertPrints(TrixieStanza("http://apt-cache.internal:3142/debian", DefaultKeyring), PrintSource(
            ("sources.list.d/proxy.sources", """
                Types: deb deb-src
                URIs: http://apt-cache.internal:3142/debian http://fallback.example/debian
                Suites: bookworm
                Components: main
                """)));
    }

    [TestMethod]
    public void Deb822_SkipsADisabledStanza()
    {
        AssertPrints(TrixieStanza("http://enabled.example/debian", DefaultKeyring), PrintSource(
            ("sources.list.d/debian.sources", """
                Types: deb
                URIs: http://disabled.example/debian
                Suites: bookworm
                Components: main
                Enabled: no
                Signed-By: /usr/share/keyrings/disabled.gpg

                Types: deb
                URIs: http://enabled.example/debian
                Suites: bookworm
                Components: main
                """)));
    }

    [TestMethod]
    public void Classic_TakesSignedByFromTheBracketedOptions()
    {
        AssertPrints(TrixieStanza("http://mirror.example/debian", "/usr/share/keyrings/x.gpg"), PrintSource(
            ("sources.list", """
                deb http://security.mirror.example/debian-security bookworm-security main
                deb [signed-by=/usr/share/keyrings/x.gpg arch=amd64] http://mirror.example/debian bookworm main
                """)));
    }

    [TestMethod]
    public void Classic_IgnoresCommentedOutDebSrcAndCdromLines()
    {
        AssertPrints(TrixieStanza("http://mirror.example/debian", DefaultKeyring), PrintSource(
            ("sources.list", """
                # deb [signed-by=/usr/share/keyrings/old.gpg] http://commented.example/debian bookworm main
                deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 DVD Binary-1]/ bookworm contrib main
                deb-src http://source.example/debian bookworm main
                """),
            ("sources.list.d/mirror.list", "deb http://mirror.example/debian bookworm main # the office mirror\n")));
    }

    [TestMethod]
    public void WithoutABookwormSource_ExitsNonZero_AndSaysWhatItLookedFor()
    {
        var (exitCode, output, error) = PrintSource(
            ("sources.list", "deb http://mirror.example/debian trixie main\n# deb http://mirror.example/debian bookworm main\n"),
            ("sources.list.d/security.sources", "Types: deb\nURIs: http://security.mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n"),
            ("sources.list.d/old.list.disabled", "deb http://mirror.example/debian bookworm main\n"));
        Assert.AreNotEqual(0, exitCode, output);
        Assert.AreEqual("", output);
        Assert.Contains("no enabled Debian 12 (bookworm) apt source", error);
        Assert.Contains("sources.list.d/*.sources", error);
    }
}
