using System.Text.RegularExpressions;
using Invertible.Tests.Support;

namespace Invertible.Tests.Build;

/// <summary>
/// The docs describe the product as it is: no narratives of earlier runs or versions in the README, in <c>docs/</c> or
/// in XML docs (git keeps the history), and a README short enough to be a product page.
/// </summary>
[TestClass]
public sealed partial class DocumentationTests
{
    private const int ReadmeMaxLines = 200;

    [TestMethod]
    public void Readme_IsAProductPage_OfAtMost200Lines()
    {
        var lines = File.ReadAllLines(Path.Combine(Processes.RepositoryRoot, "README.md")).Length;
        Assert.IsTrue(lines <= ReadmeMaxLines, $"README.md has {lines} lines; at most {ReadmeMaxLines}: move tables to docs/.");
    }

    [TestMethod]
    public void ReadmeDocsAndXmlDocs_TellNoHistory()
    {
        var found = DocumentedLines().SelectMany(l => History().Matches(l.Text).Select(m => $"{l.Where}: \"{m.Value}\" in: {l.Text.Trim()}")).ToList();
        Assert.AreEqual(0, found.Count, "History belongs to git, not to the docs:\n" + string.Join("\n", found));
    }

    [TestMethod]
    public void HistoryPattern_CatchesTheNarrativesItIsMeantFor()
    {
        foreach (var text in new[]
        {
            "rerun 2026-11-27 after this stop's training changes", "0.60× (was 1.1–2.0×)", "the previous run gave 2.865",
            "An earlier version of this README quoted 98.05%", "before the power-iteration fix", "Until 2026-11-27 a single iteration",
            "measured in an earlier session", "in this session", "the solver used to diverge", "it no longer allocates",
        })
            Assert.IsTrue(History().IsMatch(text), text);
        foreach (var text in new[] { "The options the flow was built with.", "the tolerance that was asked for", "(was built)", "earlier layers" })
            Assert.IsFalse(History().IsMatch(text), text);
    }

    private static IEnumerable<(string Where, string Text)> DocumentedLines()
    {
        var root = Processes.RepositoryRoot;
        var markdown = new[] { Path.Combine(root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md"));
        foreach (var file in markdown)
            foreach (var (text, number) in File.ReadLines(file).Select((t, i) => (t, i + 1)))
                yield return ($"{Path.GetRelativePath(root, file)}:{number}", text);
        foreach (var folder in new[] { "Invertible.Torch", "Invertible.ML", "Tools" })
            foreach (var file in Directory.GetFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")))
                foreach (var (text, number) in File.ReadLines(file).Select((t, i) => (t, i + 1)).Where(l => l.t.TrimStart().StartsWith("///", StringComparison.Ordinal)))
                    yield return ($"{Path.GetRelativePath(root, file)}:{number}", text);
    }

    [GeneratedRegex(@"\bthis (stop|session)\b|\b(earlier|previous) (run|runs|version|session|sessions|stop|full run|table)\b|\bbefore (the|this|that) [\w-]+ (fix|change)|\bbefore (the|this) (fix|change|stop|session)\b|\((was|were) [^a-z]|\bwas [0-9][0-9.,]*\b|\brerun 20\d\d|\bused to\b|\bno longer\b|\bUntil 20\d\d-", RegexOptions.IgnoreCase)]
    private static partial Regex History();
}
