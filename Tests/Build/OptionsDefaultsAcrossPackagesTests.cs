using System.Reflection;
using Invertible.ML.Flows;
using Invertible.ML.Trainers;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Flows;

namespace Invertible.Tests.Build;

/// <summary>
/// Each default is declared once: an ML.NET options type and the Torch options of the model it trains hold the same
/// default for every setting they share — by name, and for the ML solver fields (Solver, SolverTolerance,
/// SolverMaxIterations) the model's own solve options. An ML default of null is a documented rule of the data's shape
/// (rows, features) and is not compared.
/// </summary>
[TestClass]
public sealed class OptionsDefaultsAcrossPackagesTests
{
    private static IEnumerable<(object Ml, object Torch, Func<object, object> Solve)> Pairs()
    {
        yield return (new InvertibleResNetOptions(), new InvertibleResNetFlowOptions(), t => ((InvertibleResNetFlowOptions)t).Inverse.Forward);
        yield return (new InvertibleResNetAnomalyOptions(), new InvertibleResNetFlowOptions(), t => ((InvertibleResNetFlowOptions)t).Inverse.Forward);
        yield return (new InvertibleResNetTrainerOptions(), new InvertibleResNetClassifierOptions(), _ => new object());
        yield return (new DeepEquilibriumOptions(), new EquilibriumNetworkOptions(), t => ((EquilibriumNetworkOptions)t).Equilibrium.Forward);
    }

    [TestMethod]
    public void MlOptions_HoldTheTorchModelsDefaults()
    {
        var problems = new List<string>();
        var compared = 0;
        foreach (var (ml, torch, solve) in Pairs())
        {
            var torchValues = Values(torch);
            var solveValues = Values(solve(torch));
            if (torch is EquilibriumNetworkOptions network)
                torchValues["Gradient"] = network.Equilibrium.Gradient;
            foreach (var (name, value) in Values(ml))
            {
                object? expected;
                if (torchValues.TryGetValue(name, out var same))
                    expected = same;
                else if (name.StartsWith("Solver", StringComparison.Ordinal) && solveValues.TryGetValue(name == "Solver" ? "Solver" : name["Solver".Length..], out var solver))
                    expected = solver;
                else
                    continue;
                if (value is null)
                    continue; // a rule of the data's shape
                compared++;
                if (!Equals(value, expected))
                    problems.Add($"{ml.GetType().Name}.{name} = {value}, {torch.GetType().Name} says {expected}");
            }
        }
        Assert.AreEqual(0, problems.Count, string.Join("\n", problems));
        Assert.IsTrue(compared >= 18, $"defaults compared: {compared}");
    }

    private static Dictionary<string, object?> Values(object options)
        => options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0)
            .Select(p => (p.Name, Value: p.GetValue(options)))
            .Concat(options.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance).Select(f => (f.Name, Value: f.GetValue(options))))
            .ToDictionary(m => m.Name, m => m.Value);
}
