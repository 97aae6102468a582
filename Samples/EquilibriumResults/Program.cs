using System.Globalization;
using Invertible.Samples.EquilibriumResults;

// The equilibrium classifier on the digits, quoted in the README: dotnet run -c Release --project Samples/EquilibriumResults
var result = DigitsClassifier.Run(new Progress<string>(Console.WriteLine));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"RESULT digits equilibrium classifier: test accuracy {result.TestAccuracy:P2} ({result.Correct}/{result.TestRows}); forward iterations per batch mean {result.MeanForwardIterations:F1}, max {result.MaxForwardIterations}; backward iterations per batch mean {result.MeanBackwardIterations:F1}, max {result.MaxBackwardIterations}; {result.Epochs} epochs, {result.Elapsed.TotalMinutes:F1} min"));
