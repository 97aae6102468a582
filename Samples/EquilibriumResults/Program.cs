using System.Globalization;
using Invertible.Samples.EquilibriumResults;

// The equilibrium classifier on the digits over 5 seeded splits, of docs/results.md:
// dotnet run -c Release --project Samples/EquilibriumResults [-- seeds]
var seeds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
var results = new List<ClassifierResult>();
for (var seed = 0; seed < seeds; seed++)
{
    var result = DigitsClassifier.Run(seed, new Progress<string>(Console.WriteLine));
    results.Add(result);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"split {seed}: test accuracy {result.TestAccuracy:P2} ({result.Correct}/{result.TestRows}); forward iterations per batch mean {result.MeanForwardIterations:F1}, max {result.MaxForwardIterations}; backward mean {result.MeanBackwardIterations:F1}, max {result.MaxBackwardIterations}; {result.Epochs} epochs, {result.Elapsed.TotalSeconds:F0} s"));
}
var accuracies = results.Select(r => r.TestAccuracy).ToArray();
var mean = accuracies.Average();
var sd = Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / Math.Max(1, accuracies.Length - 1));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"RESULT digits equilibrium classifier: test accuracy {mean:P2} ± {sd:P2} over {seeds} splits; forward iterations per batch max {results.Max(r => r.MaxForwardIterations)}, backward max {results.Max(r => r.MaxBackwardIterations)}"));
