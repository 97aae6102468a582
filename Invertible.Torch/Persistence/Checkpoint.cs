using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json;
using System.Text;
using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Persistence;

/// <summary>
/// Saves and loads trained models: every parameter and buffer (power-iteration vectors, ActNorm's initialised state, raw
/// LipSwish parameters…), the arguments and options the model was built with, its kind and a version. A reloaded model
/// gives bit-identical outputs and can continue training.
/// </summary>
/// <remarks>
/// <para>Format: the magic bytes "INVMLCKP", a format version (int32), a UTF-8 JSON header (its length as int32 first:
/// kind, kind version, mode, construction arguments, and per tensor its name, type, shape and place in the data), the
/// tensors' raw bytes, and a SHA-256 of everything before it. Loading checks the hash first, so a truncated or corrupted
/// file fails with a <see cref="CheckpointException"/> before anything is parsed; models are rebuilt from a fixed table
/// of kinds and plain options, so loading never runs code named by the file.</para>
/// <para>Kinds: every model of this library that implements <see cref="ICheckpointable{TSelf}"/> (the flow, the
/// equilibrium and i-ResNet classifiers, their member ensembles), and those registered with
/// <see cref="Register{TModel}()"/>.</para>
/// </remarks>
public static class Checkpoint
{
    private static readonly byte[] Magic = "INVMLCKP"u8.ToArray();
    private const int FormatVersion = 1;
    private const int HashLength = 32;

    /// <summary>The JSON settings of headers and options: enums by name.</summary>
    public static JsonSerializerOptions Json { get; } = new() { Converters = { new JsonStringEnumConverter() } };

    private static readonly Dictionary<string, Kind> KindsByName = [];
    private static readonly Dictionary<Type, Kind> KindsByType = [];

    // This library's kinds: every model type that declares its own (ICheckpointable), found once by reflection over this
    // assembly's types — a fixed table, so a file can only name a kind, never a type or code to run.
    static Checkpoint()
    {
        var register = typeof(Checkpoint).GetMethod(nameof(Register), 1, Type.EmptyTypes)!;
        foreach (var type in typeof(Checkpoint).Assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false }))
            if (type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ICheckpointable<>) && i.GetGenericArguments()[0] == type))
                register.MakeGenericMethod(type).Invoke(null, null);
    }

    /// <summary>Adds the model kind <typeparamref name="TModel"/> declares (for models of other assemblies; this library's
    /// own are found by their <see cref="ICheckpointable{TSelf}"/>).</summary>
    public static void Register<TModel>() where TModel : nn.Module, ICheckpointable<TModel>
        => Register<TModel>(TModel.CheckpointKind, TModel.CheckpointVersion, model => model.CheckpointArguments(), TModel.FromCheckpoint);

    /// <summary>A part of a composite model: its kind and the arguments that rebuild it (for <see cref="ICheckpointable{TSelf}.CheckpointArguments"/>).</summary>
    public static JsonObject DescribePart(nn.Module model)
    {
        Kind kind;
        lock (KindsByName)
            if (!KindsByType.TryGetValue(model.GetType(), out kind!))
                throw new NotSupportedException($"{model.GetType().Name} has no checkpoint kind; supported: {string.Join(", ", KindsByName.Keys)}.");
        return new JsonObject { ["kind"] = kind.Name, ["kindVersion"] = kind.Version, ["arguments"] = kind.Describe(model) };
    }

    /// <summary>The untrained part <see cref="DescribePart"/> described (for <see cref="ICheckpointable{TSelf}.FromCheckpoint"/>).</summary>
    public static nn.Module CreatePart(JsonObject member)
    {
        var name = Read<string>(member, "kind");
        Kind kind;
        lock (KindsByName)
            if (!KindsByName.TryGetValue(name, out kind!))
                throw new CheckpointException($"Unknown part kind '{name}'; known: {string.Join(", ", KindsByName.Keys)}.");
        if (Read<int>(member, "kindVersion") != kind.Version)
            throw new CheckpointException($"{name} part version {Read<int>(member, "kindVersion")} is not supported (this library reads version {kind.Version}).");
        return kind.Create(member["arguments"]!.AsObject());
    }

    /// <summary>
    /// Adds a model kind: <paramref name="describe"/> writes the arguments that rebuild the model (plain JSON: sizes and
    /// options), <paramref name="create"/> builds an untrained model from them; the weights are then loaded into it.
    /// </summary>
    public static void Register<TModel>(string kind, int version, Func<TModel, JsonObject> describe, Func<JsonObject, TModel> create) where TModel : nn.Module
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(describe);
        ArgumentNullException.ThrowIfNull(create);
        lock (KindsByName)
        {
            var entry = new Kind(kind, version, typeof(TModel), model => describe((TModel)model), arguments => create(arguments));
            KindsByName[kind] = entry;
            KindsByType[typeof(TModel)] = entry;
        }
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(nn.Module model, string path) => AtomicFile.Write(path, stream => Save(model, stream));

    /// <summary>Writes <paramref name="model"/> to <paramref name="stream"/>.</summary>
    /// <exception cref="NotSupportedException">The model's type is not a registered kind.</exception>
    public static void Save(nn.Module model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stream);
        Kind kind;
        lock (KindsByName)
            if (!KindsByType.TryGetValue(model.GetType(), out kind!))
                throw new NotSupportedException($"{model.GetType().Name} has no checkpoint kind; supported: {string.Join(", ", KindsByName.Keys)}.");

        using var _ = no_grad();
        var tensors = new JsonArray();
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in model.state_dict())
        {
            var data = tensor.detach().contiguous().cpu().bytes.ToArray();
            tensors.Add(new JsonObject
            {
                ["name"] = name, ["dtype"] = tensor.dtype.ToString(), ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode)d).ToArray()),
                ["offset"] = offset, ["length"] = data.LongLength,
            });
            blobs.Add(data);
            offset += data.LongLength;
        }
        var header = new JsonObject
        {
            ["kind"] = kind.Name, ["kindVersion"] = kind.Version, ["training"] = model.training,
            ["arguments"] = kind.Describe(model), ["tensors"] = tensors,
        };
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString(Json));

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Write(ReadOnlySpan<byte> bytes)
        {
            hash.AppendData(bytes);
            stream.Write(bytes);
        }
        Write(Magic);
        Write(BitConverter.GetBytes(FormatVersion));
        Write(BitConverter.GetBytes(headerBytes.Length));
        Write(headerBytes);
        foreach (var blob in blobs)
            Write(blob);
        stream.Write(hash.GetHashAndReset());
    }

    /// <summary>The checkpoint of <paramref name="model"/> as bytes.</summary>
    public static byte[] ToBytes(nn.Module model)
    {
        using var stream = new MemoryStream();
        Save(model, stream);
        return stream.ToArray();
    }

    /// <summary>Reads the model saved at <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointException">The file is truncated, corrupted, of an unknown kind or version.</exception>
    public static nn.Module Load(string path) => Load(File.ReadAllBytes(path));

    /// <summary>Reads a model of type <typeparamref name="TModel"/> saved at <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointException">The file is truncated, corrupted, or holds another kind of model.</exception>
    public static TModel Load<TModel>(string path) where TModel : nn.Module => As<TModel>(Load(path));

    /// <summary>Reads a model of type <typeparamref name="TModel"/> from checkpoint bytes.</summary>
    public static TModel Load<TModel>(byte[] bytes) where TModel : nn.Module => As<TModel>(Load(bytes));

    /// <summary>Reads a model from checkpoint bytes.</summary>
    /// <exception cref="CheckpointException">The bytes are truncated, corrupted, of an unknown kind or version.</exception>
    public static nn.Module Load(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < Magic.Length + 8 + HashLength || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new CheckpointException($"Not an Invertible.ML checkpoint ({bytes.Length} bytes; it must start with \"INVMLCKP\").");
        var body = bytes.AsSpan(0, bytes.Length - HashLength);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - HashLength)))
            throw new CheckpointException("The checkpoint is truncated or corrupted: its SHA-256 does not match its contents.");
        var version = BitConverter.ToInt32(body[Magic.Length..]);
        if (version != FormatVersion)
            throw new CheckpointException($"Checkpoint format version {version} is not supported (this library reads version {FormatVersion}).");
        var headerLength = BitConverter.ToInt32(body[(Magic.Length + 4)..]);
        var dataStart = Magic.Length + 8 + (long)headerLength;
        if (headerLength < 2 || dataStart > body.Length)
            throw new CheckpointException($"The checkpoint header length {headerLength} does not fit in the file.");

        try
        {
            var header = JsonNode.Parse(body.Slice(Magic.Length + 8, headerLength))!.AsObject();
            var kindName = Read<string>(header, "kind");
            Kind kind;
            lock (KindsByName)
                if (!KindsByName.TryGetValue(kindName, out kind!))
                    throw new CheckpointException($"Unknown model kind '{kindName}'; known: {string.Join(", ", KindsByName.Keys)}.");
            var kindVersion = Read<int>(header, "kindVersion");
            if (kindVersion != kind.Version)
                throw new CheckpointException($"{kindName} checkpoint version {kindVersion} is not supported (this library reads version {kind.Version}).");

            var model = kind.Create(header["arguments"]!.AsObject());
            // Evaluation mode before the weights arrive: entering it refreshes spectral-norm vectors, which must not touch loaded ones.
            model.eval();
            LoadTensors(model, header["tensors"]!.AsArray(), body[(int)dataStart..]);
            if (Read<bool>(header, "training"))
                model.train();
            return model;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException or KeyNotFoundException or NullReferenceException)
        {
            throw new CheckpointException($"The checkpoint's header is invalid: {e.Message}", e);
        }
    }

    private static void LoadTensors(nn.Module model, JsonArray entries, ReadOnlySpan<byte> data)
    {
        var expected = model.state_dict();
        var seen = new HashSet<string>();
        using var _ = no_grad();
        foreach (var entry in entries)
        {
            var name = Read<string>(entry!, "name");
            if (!expected.TryGetValue(name, out var target))
                throw new CheckpointException($"The checkpoint holds tensor '{name}', which the model does not have.");
            var dtype = Enum.Parse<ScalarType>(Read<string>(entry!, "dtype"));
            var shape = entry!["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            if (dtype != target.dtype || !shape.SequenceEqual(target.shape))
                throw new CheckpointException($"Tensor '{name}' is {dtype} [{string.Join(", ", shape)}] in the checkpoint but {target.dtype} [{string.Join(", ", target.shape)}] in the model.");
            var (offset, length) = (Read<long>(entry!, "offset"), Read<long>(entry!, "length"));
            if (offset < 0 || length != target.numel() * target.ElementSize || offset + length > data.Length)
                throw new CheckpointException($"Tensor '{name}' has {length} bytes at offset {offset}; expected {target.numel() * target.ElementSize} within {data.Length}.");
            var loaded = empty(shape, dtype: dtype);
            loaded.bytes = data.Slice((int)offset, (int)length).ToArray();
            target.copy_(loaded);
            seen.Add(name);
        }
        if (expected.Keys.FirstOrDefault(name => !seen.Contains(name)) is { } missing)
            throw new CheckpointException($"The checkpoint lacks tensor '{missing}'.");
    }

    private static T As<T>(nn.Module model) where T : nn.Module
        => model as T ?? throw new CheckpointException($"The checkpoint holds a {model.GetType().Name}, not a {typeof(T).Name}.");

    /// <summary>The argument <paramref name="name"/> of a checkpoint header or model description, read with <see cref="Json"/>.</summary>
    /// <exception cref="CheckpointException">It is missing or null.</exception>
    public static T Read<T>(JsonNode node, string name)
    {
        var value = node[name] ?? throw new CheckpointException($"The checkpoint's header lacks '{name}'.");
        return value.Deserialize<T>(Json) ?? throw new CheckpointException($"The checkpoint's header has a null '{name}'.");
    }

    private sealed record Kind(string Name, int Version, Type Type, Func<nn.Module, JsonObject> Describe, Func<JsonObject, nn.Module> Create);
}
