using Invertible.Samples.Quickstart;

// The quickstart walks through the product one capability at a time; each section prints what it measured.
Console.WriteLine("Invertible.ML quickstart");
Console.WriteLine(new string('=', 72));
CoreSection.Run();
DensitySection.Run();
EquilibriumSection.Run();
