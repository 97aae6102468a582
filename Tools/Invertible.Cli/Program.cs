using System.CommandLine;
using Invertible.Cli;

// invertible: train, evaluate, score, inverse, sample and export-onnx on CSV files (header row, comma-separated).
var data = new Option<string>("--data") { Description = "CSV file with a header row", Required = true };
var model = new Option<string>("--model") { Description = "model file (an ML.NET .zip written by train)", Required = true };
var output = new Option<string>("--output") { Description = "file to write (written whole or not at all)", Required = true };
var label = new Option<string>("--label") { Description = "label column (classifier, regressor)", DefaultValueFactory = _ => Commands.DefaultLabel };
var features = new Option<string?>("--features") { Description = "comma-separated feature columns (default: every column but the label)" };
var trainedLabel = new Option<string?>("--label") { Description = "label column (default: the one the model was trained with)" };
var trainedFeatures = new Option<string?>("--features") { Description = "comma-separated feature columns (default: the ones the model was trained with)" };

var kind = new Option<ModelKind>("--kind") { Description = "flow (density, inverse, sampling), classifier or regressor", DefaultValueFactory = _ => ModelKind.Flow };
var epochs = new Option<int?>("--epochs") { Description = "training epochs (default: the trainer's)" };
var seed = new Option<int>("--seed") { Description = "random seed", DefaultValueFactory = _ => 1 };
var train = new Command("train", """
    Trains a model on a CSV file and saves it (with the names of its label and feature columns); ends with the fit time
    and, for a classifier or regressor, its out-of-fold accuracy or R² (rows scored by cross-fitted members that did not
    train on them).
    Example: invertible train --data sensors.csv --kind flow --model sensors.zip
             invertible train --data iris.csv --kind classifier --label species --model iris.zip
    """) { data, model, kind, label, features, epochs, seed };
train.SetAction(r => Run(() => Commands.Train(r.GetValue(data)!, r.GetValue(model)!, r.GetValue(kind), r.GetValue(label)!, r.GetValue(features), r.GetValue(epochs), r.GetValue(seed))));

var evaluate = new Command("evaluate", """
    Evaluates a model on a CSV file: mean log-likelihood (flow), accuracy and log-loss (classifier), RMSE and R² (regressor).
    Example: invertible evaluate --data test.csv --model sensors.zip
    """) { data, model, trainedLabel, trainedFeatures };
evaluate.SetAction(r => Run(() => Commands.Evaluate(r.GetValue(data)!, r.GetValue(model)!, r.GetValue(trainedLabel), r.GetValue(trainedFeatures))));

var score = new Command("score", """
    Scores every row to a CSV file: log-likelihood and latent (flow), predicted label and class probabilities (classifier), score (regressor).
    Example: invertible score --data new.csv --model sensors.zip --output scores.csv
    """) { data, model, output, trainedLabel, trainedFeatures };
score.SetAction(r => Run(() => Commands.Score(r.GetValue(data)!, r.GetValue(model)!, r.GetValue(output)!, r.GetValue(trainedLabel), r.GetValue(trainedFeatures))));

var inverse = new Command("inverse", """
    Maps latent rows (a CSV with one column per latent dimension) back to the flow's input space, with iterations and convergence per row.
    Example: invertible inverse --data latents.csv --model sensors.zip --output reconstructed.csv
    """) { data, model, output };
inverse.SetAction(r => Run(() => Commands.Inverse(r.GetValue(data)!, r.GetValue(model)!, r.GetValue(output)!)));

var count = new Option<int>("--count") { Description = "rows to generate", DefaultValueFactory = _ => 100 };
var sampleSeed = new Option<int?>("--seed") { Description = "random seed of the draws" };
var sample = new Command("sample", """
    Draws new rows from a flow.
    Example: invertible sample --model sensors.zip --count 1000 --output generated.csv
    """) { model, count, sampleSeed, output };
sample.SetAction(r => Run(() => Commands.Sample(r.GetValue(model)!, r.GetValue(count), r.GetValue(sampleSeed), r.GetValue(output)!)));

var export = new Command("export-onnx", """
    Writes the whole pipeline (normalisation included) as one ONNX file for ONNX Runtime.
    Example: invertible export-onnx --model sensors.zip --output sensors.onnx
    """) { model, output };
export.SetAction(r => Run(() => Commands.ExportOnnx(r.GetValue(model)!, r.GetValue(output)!)));

var root = new RootCommand("Invertible.ML from the shell: invertible-ResNet flows and deep-equilibrium models on CSV files.")
{
    train, evaluate, score, inverse, sample, export,
};
return root.Parse(args).Invoke();

static int Run(Action action)
{
    try
    {
        action();
        return 0;
    }
    catch (CliException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
    catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}
