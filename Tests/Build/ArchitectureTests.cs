using System.Reflection;
using NetArchTest.Rules;

namespace Invertible.Tests.Build;

/// <summary>
/// Dependencies point one way (docs/architecture.md): in each assembly the namespaces form a stack, bottom up, and a
/// namespace uses none above it. Every namespace of an assembly must have its place in the stack, so a new folder
/// cannot slip past the rule; and the two packages share no internals.
/// </summary>
[TestClass]
public sealed class ArchitectureTests
{
    private static readonly string[] TorchLayers =
    [
        // Persistence sits below the models: each model declares its own checkpoint kind, and no registry imports them.
        "Invertible.Torch.Core", "Invertible.Torch.Persistence", "Invertible.Torch.Solvers", "Invertible.Torch", "Invertible.Torch.Lipschitz",
        "Invertible.Torch.LogDet", "Invertible.Torch.Implicit", "Invertible.Torch.Layers", "Invertible.Torch.Supervised", "Invertible.Torch.Flows",
        "Invertible.Torch.Equilibrium", "Invertible.Torch.Training", "Invertible.Torch.Onnx", "Invertible.Torch.Checks", "Invertible.Torch.Data",
    ];

    private static readonly string[] MlLayers =
    [
        "Invertible.ML.Hosting", "Invertible.ML", "Invertible.ML.Data", "Invertible.ML.Persistence", "Invertible.ML.Mapping",
        "Invertible.ML.Flows", "Invertible.ML.Trainers", "Invertible.ML.Pipelines", "Invertible.ML.Checks", "Microsoft.ML",
    ];

    private static Assembly Torch => typeof(Invertible.Torch.Flows.InvertibleResNetFlow).Assembly;

    private static Assembly Ml => typeof(Invertible.ML.Flows.InvertibleResNetEstimator).Assembly;

    [TestMethod]
    public void InvertibleTorch_DependsDownwardOnly() => AssertLayered(Torch, TorchLayers);

    [TestMethod]
    public void InvertibleMl_DependsDownwardOnly() => AssertLayered(Ml, MlLayers);

    [TestMethod]
    public void TheRule_CatchesAnUpwardDependency()
    {
        // The solvers sit below the flows; this assembly's own types show the check can fail: reversing the stack makes
        // every real dependency point upward.
        var violations = Violations(Torch, [.. TorchLayers.Reverse()]);
        Assert.IsTrue(violations.Any(v => v.StartsWith("Invertible.Torch.Flows.", StringComparison.Ordinal)), string.Join("\n", violations));
    }

    [TestMethod]
    public void ShippedPackages_ShareNoInternals()
    {
        foreach (var assembly in new[] { Torch, Ml })
        {
            var friends = assembly.GetCustomAttributes<System.Runtime.CompilerServices.InternalsVisibleToAttribute>().Select(a => a.AssemblyName).ToArray();
            CollectionAssert.AreEqual(new[] { "Invertible.Tests" }, friends, $"{assembly.GetName().Name} opens its internals only to the tests");
        }
    }

    private static void AssertLayered(Assembly assembly, string[] layers)
    {
        // Compiler-generated helpers (e.g. source-generated regular expressions) live in System.* namespaces.
        var namespaces = assembly.GetTypes().Select(t => t.Namespace).OfType<string>().Where(n => !n.StartsWith("System.", StringComparison.Ordinal)).Distinct().ToArray();
        var unplaced = namespaces.Except(layers).ToArray();
        Assert.AreEqual(0, unplaced.Length, $"namespaces without a place in the stack: {string.Join(", ", unplaced)}");
        var empty = layers.Except(namespaces).ToArray();
        Assert.AreEqual(0, empty.Length, $"layers with no types (renamed?): {string.Join(", ", empty)}");
        var violations = Violations(assembly, layers);
        Assert.AreEqual(0, violations.Count, "upward dependencies:\n" + string.Join("\n", violations));
    }

    // Per namespace, the types that depend on a namespace above it. A namespace that is the prefix of others (the root), or
    // shared with another library (the catalog's Microsoft.ML), is named by its own types, so that forbidding it does not
    // forbid everything below it or ML.NET itself.
    private static List<string> Violations(Assembly assembly, string[] layers)
    {
        var byNamespace = assembly.GetTypes().Where(t => t.Namespace is not null).GroupBy(t => t.Namespace!).ToDictionary(g => g.Key, g => g.ToArray());
        string[] Names(string ns) => layers.Any(other => other.StartsWith(ns + ".", StringComparison.Ordinal)) || !ns.StartsWith("Invertible.", StringComparison.Ordinal)
            ? [.. byNamespace.GetValueOrDefault(ns, []).Where(t => !t.IsNested).Select(t => t.FullName!)]
            : [ns];
        var violations = new List<string>();
        for (var i = 0; i < layers.Length; i++)
        {
            var above = layers.Skip(i + 1).SelectMany(Names).ToArray();
            if (above.Length == 0)
                continue;
            var result = Types.InAssembly(assembly).That().ResideInNamespaceMatching("^" + System.Text.RegularExpressions.Regex.Escape(layers[i]) + "$")
                .ShouldNot().HaveDependencyOnAny(above).GetResult();
            if (!result.IsSuccessful)
                violations.AddRange(result.FailingTypeNames ?? []);
        }
        return violations;
    }
}
