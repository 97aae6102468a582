using System.Text.Json.Nodes;
using TorchSharp;

namespace Invertible.Torch.Persistence;

/// <summary>
/// A model kind a checkpoint can rebuild, declared by the model itself: the arguments that construct it (plain JSON:
/// sizes and options) and an untrained copy built from them, into which <see cref="Checkpoint"/> then loads the weights.
/// The kinds of this library are found by this interface, so a new model kind is its own file; a model of another
/// assembly is added with <see cref="Checkpoint.Register{TModel}()"/>.
/// </summary>
/// <typeparam name="TSelf">The model type.</typeparam>
public interface ICheckpointable<TSelf> where TSelf : torch.nn.Module, ICheckpointable<TSelf>
{
    /// <summary>The kind's name in checkpoint headers.</summary>
    static abstract string CheckpointKind { get; }

    /// <summary>The version of the arguments' layout; a checkpoint of another version is refused.</summary>
    static abstract int CheckpointVersion { get; }

    /// <summary>The arguments that rebuild this model (without its weights).</summary>
    JsonObject CheckpointArguments();

    /// <summary>An untrained model built from <paramref name="arguments"/>.</summary>
    static abstract TSelf FromCheckpoint(JsonObject arguments);
}
