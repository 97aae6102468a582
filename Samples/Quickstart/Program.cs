using Invertible.Samples.Quickstart;

// The quickstart shows the product through its ML.NET API first, then the TorchSharp layer underneath; each section
// prints what it measured.
Console.WriteLine("Invertible.ML quickstart");
Console.WriteLine(new string('=', 72));
MlNetSection.Run();
CoreSection.Run();
