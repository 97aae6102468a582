using System.Globalization;
using Invertible.Samples.DensityResults;
using Invertible.Torch.Flows;
using Invertible.Torch.Training;

// Density results of docs/results.md: dotnet run -c Release --project Samples/DensityResults.
// Optional arguments: the experiments to run (8-gaussians, checkerboard, two-moons, digits); default all.
var selected = args.Length == 0 ? ["8-gaussians", "checkerboard", "two-moons", "digits"] : args;
var culture = CultureInfo.InvariantCulture;
foreach (var set in ToyExperiment.Sets.Where(s => selected.Contains(s.Name)))
{
    Console.WriteLine($"== {set.Name}");
    var result = ToyExperiment.Run(set, ToyConfiguration.Architecture, ToyConfiguration.Training(set.Epochs), 20_000, 5_000);
    Console.WriteLine(string.Create(culture,
        $"RESULT {result.Name}: test NLL {result.FlowNll:F3} nats (exact {(result.ExactNll is { } e ? e.ToString("F3", culture) : "n/a")}, Gaussian {result.GaussianNll:F3}; target {result.Target}); " +
        $"energy distance flow {result.FlowEnergy:F4} vs Gaussian {result.GaussianEnergy:F4}; {result.Epochs} epochs, {result.Elapsed.TotalMinutes:F1} min"));
}
if (selected.Contains("digits"))
{
    Console.WriteLine("== digits");
    var digits = DigitsExperiment.Run(DigitsConfiguration.Architecture, DigitsConfiguration.Training);
    Console.WriteLine(string.Create(culture,
        $"RESULT digits: test {digits.FlowBitsPerDim:F3} bits/dim vs full-covariance Gaussian {digits.GaussianBitsPerDim:F3}; {digits.Epochs} epochs, {digits.Elapsed.TotalMinutes:F1} min"));
}
