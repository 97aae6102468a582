using Invertible.Samples.InferenceService;

// Serves exported models from a folder: dotnet run --project Samples/InferenceService -- --models <folder> [--urls http://127.0.0.1:5080]
var app = InferenceApp.Create(args);
app.Run();
