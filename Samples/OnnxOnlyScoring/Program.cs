using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

// Scores rows with a model saved by mlContext.Model.Save from a pipeline holding Invertible.ML transformers, in a process
// that references neither Invertible.ML nor TorchSharp: a plain Model.Load gives their ONNX stand-ins.
// usage: OnnxOnlyScoring MODEL.zip INPUT.csv COLUMN...   (INPUT: one row of features per line, comma-separated)
// prints, per input row, the listed output columns' values (vectors flattened), comma-separated; then which native
// engines the process loaded.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: OnnxOnlyScoring MODEL.zip INPUT.csv COLUMN...");
    return 2;
}
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var context = new MLContext();
var model = context.Model.Load(args[0], out var inputSchema);
var rows = File.ReadAllLines(args[1]).Where(l => l.Length > 0)
    .Select(l => new Row { Features = l.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray() }).ToList();
var definition = SchemaDefinition.Create(typeof(Row));
definition[0].ColumnName = inputSchema[0].Name;
definition[0].ColumnType = inputSchema[0].Type;
var scored = model.Transform(context.Data.LoadFromEnumerable(rows, definition));
var columns = args[2..].Select(name => Read(scored, name)).ToArray();
for (var i = 0; i < rows.Count; i++)
    Console.WriteLine(string.Join(",", columns.SelectMany(c => c[i])));
var loaded = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).ToHashSet();
Console.WriteLine($"# TorchSharp loaded: {loaded.Contains("TorchSharp")}; Invertible.ML loaded: {loaded.Contains("Invertible.ML")}");
return 0;

static IReadOnlyList<string[]> Read(IDataView view, string name)
{
    var type = view.Schema[name].Type;
    var item = type is VectorDataViewType vector ? vector.ItemType : type;
    return (type is VectorDataViewType, item.RawType) switch
    {
        (true, var t) when t == typeof(float) => view.GetColumn<float[]>(name).Select(v => v.Select(x => x.ToString("R")).ToArray()).ToList(),
        (true, var t) when t == typeof(long) => view.GetColumn<long[]>(name).Select(v => v.Select(x => x.ToString()).ToArray()).ToList(),
        (true, var t) when t == typeof(bool) => view.GetColumn<bool[]>(name).Select(v => v.Select(x => x.ToString()).ToArray()).ToList(),
        (true, var t) when t == typeof(uint) => view.GetColumn<uint[]>(name).Select(v => v.Select(x => x.ToString()).ToArray()).ToList(),
        (false, var t) when t == typeof(float) => view.GetColumn<float>(name).Select(v => new[] { v.ToString("R") }).ToList(),
        _ => throw new NotSupportedException($"Column {name} is {type}."),
    };
}

/// <summary>One input row.</summary>
internal sealed class Row
{
    public float[] Features { get; set; } = [];
}
