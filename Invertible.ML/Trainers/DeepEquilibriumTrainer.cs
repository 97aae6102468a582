using Invertible.Torch;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Supervised;
using Invertible.Torch.Solvers;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Invertible.ML.Trainers;

/// <summary>
/// Trains a deep-equilibrium network for the task its transformer names: <see cref="InvertibleMulticlassTransformer"/>,
/// <see cref="InvertibleBinaryTransformer"/> or <see cref="InvertibleRegressionTransformer"/> (create it with
/// <c>mlContext.&lt;Task&gt;.Trainers.DeepEquilibrium(…)</c>).
/// </summary>
/// <typeparam name="TTransformer">The task's prediction transformer.</typeparam>
public sealed class DeepEquilibriumTrainer<TTransformer> : IEstimator<TTransformer> where TTransformer : InvertiblePredictionTransformer
{
    private readonly IHostEnvironment environment;
    private readonly DeepEquilibriumOptions options;

    /// <summary>Creates the trainer on <paramref name="mlContext"/> (seed and log).</summary>
    public DeepEquilibriumTrainer(MLContext mlContext, DeepEquilibriumOptions? options = null)
        : this((IHostEnvironment)(mlContext ?? throw new ArgumentNullException(nameof(mlContext))), options)
    {
    }

    internal DeepEquilibriumTrainer(IHostEnvironment environment, DeepEquilibriumOptions? options)
    {
        this.environment = environment;
        Task = InvertiblePredictionTransformer.TaskOf<TTransformer>();
        this.options = options ?? new DeepEquilibriumOptions();
        this.options.Validate();
    }

    /// <summary>What is predicted.</summary>
    public SupervisedTask Task { get; }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => SupervisedFit.OutputSchema(inputSchema, Task, options.FeatureColumnName, options.LabelColumnName);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Bad feature or label column, no rows, or a row holding NaN or ±∞ or a missing label.</exception>
    public TTransformer Fit(IDataView input)
        => (TTransformer)SupervisedFit.Fit(environment, "DeepEquilibrium", input, Task, options,
            (members, inputs, outputs, rows, generator) =>
            {
                var solves = EquilibriumNetworkOptions.EquilibriumFor(options.Solver, options.SolverTolerance, options.SolverMaxIterations, options.Gradient);
                if (options.Image is { } image)
                {
                    if (image.Size != inputs)
                        throw new ArgumentException($"Column '{options.FeatureColumnName}' holds {inputs} values per row, but Image {image} holds {image.Size}.", nameof(options.Image));
                    var architecture = new EquilibriumNetworkOptions
                    {
                        Image = image, StateChannels = options.StateChannels, Stride = options.Stride, Pooling = options.Pooling, LinearSkip = true, Equilibrium = solves,
                    };
                    return new ModelMembers([.. Enumerable.Range(0, members).Select(_ =>
                        (TorchSharp.torch.nn.Module)new EquilibriumNetwork(inputs, outputs, Task, architecture, generator))]);
                }
                var state = options.StateFeatures ?? (rows < SupervisedFit.LargeRows ? DeepEquilibriumOptions.Defaults.StateFeatures : DeepEquilibriumOptions.Defaults.LargeStateFeatures);
                return new EquilibriumMembers(members, inputs, outputs, Task, new EquilibriumNetworkOptions
                {
                    StateFeatures = state, InjectionFeatures = state, Monotone = options.Monotone,
                    Coefficient = options.Coefficient, Activation = options.Activation, LinearSkip = true,
                    Equilibrium = solves,
                }, generator);
            });
}
