using Invertible.Samples.Quickstart;

// The quickstart shows the product through its ML.NET API first, then the TorchSharp layer underneath; each section
// prints what it measured, and the figures go to PNG files.
// Usage: Quickstart [--quick] [--plots <folder>]   (--quick: a reduced run, as the project's test runs it)
System.Globalization.CultureInfo.DefaultThreadCurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
var size = args.Contains("--quick") ? QuickstartSize.Reduced : QuickstartSize.Full;
var plotIndex = Array.IndexOf(args, "--plots");
var plots = new Plots(plotIndex >= 0 && plotIndex + 1 < args.Length ? args[plotIndex + 1] : "quickstart-output");

var watch = System.Diagnostics.Stopwatch.StartNew();
Console.WriteLine("Invertible.ML quickstart");
Console.WriteLine(new string('=', 72));
MlNetSection.Run(size, plots);
CoreSection.Run();
Console.WriteLine();
Console.WriteLine($"Done in {watch.Elapsed.TotalSeconds:F0} s. Plots ({Plots.Width}×{Plots.Height} PNG) and the exported ONNX graphs are in {plots.Folder}:");
foreach (var path in plots.Written)
    Console.WriteLine($"  {Path.GetFileName(path)}");
