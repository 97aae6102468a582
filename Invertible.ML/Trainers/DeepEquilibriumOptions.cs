using Invertible.Torch.Core;
using Invertible.ML.Hosting;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Solvers;

namespace Invertible.ML.Trainers;

/// <summary>
/// Options of the deep-equilibrium trainers (multiclass, binary, regression). Each cross-fitted member scores
/// H z* + c + S x + s with z* the equilibrium of a contractive cell z* = φ(W z* + U x + b), ‖W‖ ≤ c &lt; 1 (the default),
/// or of a monotone-operator cell z* = ReLU(W z* + U x + b) with I − W ⪰ ½ I (<see cref="Monotone"/>); either way z*
/// exists and is unique. Every field has a documented default; the defaults are one set of rules for all data.
/// </summary>
/// <remarks>
/// <para>The rows are dealt to <see cref="SupervisedTrainingOptions.Members"/> folds (stratified by class). Member k starts
/// as the L2-regularised linear model fitted to convergence on the rows outside fold k (the penalty chosen on the held-out
/// folds), then trains on those rows; all members train together and stop early on the out-of-fold score — for
/// classification the error rate (ties broken by the cross-entropy), for regression the squared error — whose epoch 0
/// is the linear start: the result is never worse than the linear models out of fold. Predictions average the members.</para>
/// <para>The features are standardised and smoothly clipped inside the model (outliers beyond 3 standard deviations are
/// compressed), and a regression's target is standardised for training and mapped back.</para>
/// </remarks>
public sealed class DeepEquilibriumOptions : SupervisedTrainingOptions
{
    /// <summary>Default values.</summary>
    public static class Defaults
    {
        /// <summary>Default <see cref="StateFeatures"/> below 10 000 rows.</summary>
        public const int StateFeatures = EquilibriumNetworkOptions.Defaults.StateFeatures;

        /// <summary>Default <see cref="StateFeatures"/> from 10 000 rows on, where one model replaces the five members.</summary>
        public const int LargeStateFeatures = 128;
        /// <summary>Default <see cref="Coefficient"/>.</summary>
        public const double Coefficient = EquilibriumNetworkOptions.Defaults.Coefficient;
        /// <summary>Default <see cref="Activation"/>.</summary>
        public const LipschitzActivation Activation = EquilibriumNetworkOptions.Defaults.Activation;
        /// <summary>Default <see cref="Monotone"/>.</summary>
        public const bool Monotone = EquilibriumNetworkOptions.Defaults.Monotone;
        /// <summary>Default <see cref="Gradient"/>.</summary>
        public const EquilibriumBackward Gradient = EquilibriumNetworkOptions.Defaults.Gradient;
        /// <summary>Default <see cref="Solver"/>.</summary>
        public const FixedPointSolverKind Solver = EquilibriumNetworkOptions.Defaults.Solver;
        /// <summary>Default <see cref="SolverTolerance"/>.</summary>
        public const double SolverTolerance = EquilibriumNetworkOptions.Defaults.SolverTolerance;
        /// <summary>Default <see cref="SolverMaxIterations"/>.</summary>
        public const int SolverMaxIterations = EquilibriumNetworkOptions.Defaults.SolverMaxIterations;
        /// <summary>Default <see cref="TrainingOptions.Epochs"/>: an upper bound; early stopping ends sooner.</summary>
        public const int Epochs = 200;
        /// <summary>Default <see cref="TrainingOptions.BatchSize"/>.</summary>
        public const int BatchSize = 64;
        /// <summary>Default <see cref="TrainingOptions.LearningRate"/>.</summary>
        public const double LearningRate = 4e-3;
        /// <summary>Default <see cref="TrainingOptions.WeightDecay"/>.</summary>
        public const double WeightDecay = 1e-4;
        /// <summary>Default <see cref="TrainingOptions.ValidationFraction"/> (used with a single member).</summary>
        public const double ValidationFraction = 0.2;
        /// <summary>Default <see cref="TrainingOptions.EarlyStoppingPatience"/>.</summary>
        public const int EarlyStoppingPatience = 40;
    }

    /// <summary>Creates the options with their defaults.</summary>
    public DeepEquilibriumOptions()
        : base(Defaults.Epochs, Defaults.BatchSize, Defaults.LearningRate, Defaults.WeightDecay, Defaults.ValidationFraction, Defaults.EarlyStoppingPatience)
    {
    }

    /// <summary>Width of each member's equilibrium state z. Default (null): 64 below 10 000 rows, 128 from there on.</summary>
    public int? StateFeatures;

    /// <summary>Contractive cell: bound c on ‖W‖, in (0, 1). Default 0.5: a strong contraction, solved in a few iterations.</summary>
    public double Coefficient = Defaults.Coefficient;

    /// <summary>Contractive cell: its 1-Lipschitz activation φ (the monotone cell uses ReLU). Default LipSwish.</summary>
    public LipschitzActivation Activation = Defaults.Activation;

    /// <summary>
    /// The monotone-operator cell (monDEQ: W = ½ I − AᵀA + B − Bᵀ, unconstrained A and B, ReLU, solved by
    /// Peaceman–Rachford splitting) rather than the contractive one. Default false.
    /// </summary>
    public bool Monotone = Defaults.Monotone;

    /// <summary>
    /// How gradients pass through the equilibrium. Default <see cref="EquilibriumBackward.JacobianFree"/> (the gradient of one application of the cell at
    /// z*, exact up to the factor (I − J)⁻¹, which a contraction of 0.5 keeps close to the identity): one step where the
    /// implicit gradient solves a second fixed point.
    /// </summary>
    public EquilibriumBackward Gradient = Defaults.Gradient;

    /// <summary>Fixed-point solver of the equilibrium (and of the adjoint). Default Adaptive (Picard, then Anderson when the map contracts slowly).</summary>
    public FixedPointSolverKind Solver = Defaults.Solver;

    /// <summary>Relative residual at which the solves stop. Default 1e-3.</summary>
    public double SolverTolerance = Defaults.SolverTolerance;

    /// <summary>Iteration cap of the solves. Default 100.</summary>
    public int SolverMaxIterations = Defaults.SolverMaxIterations;

    /// <summary>
    /// The feature vectors are images of this shape, channel-major as <c>ExtractPixels</c> writes them: each member is then
    /// the convolutional monotone network (monDEQ: a <see cref="ConvolutionalMonotoneCell"/> of <see cref="StateChannels"/>
    /// channels on the image, its feature maps average-pooled into the head, beside the linear path);
    /// <see cref="StateFeatures"/>, <see cref="Monotone"/>, <see cref="Coefficient"/> and <see cref="Activation"/> do not
    /// apply. Default null: rows.
    /// </summary>
    public ImageShape? Image;

    /// <summary>Images: channels of the equilibrium's feature maps. Default 32.</summary>
    public int StateChannels = EquilibriumNetworkOptions.Defaults.StateChannels;

    /// <summary>Images: stride of the cell's injection, 1 or 2. Default (null): 2 when the image's shorter side is at least
    /// 16, else 1.</summary>
    public int? Stride;

    /// <summary>Images: side of the average-pooling window before the head. Default (null): the feature maps' shorter side
    /// / 7, at least 1.</summary>
    public int? Pooling;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.AtLeast(StateFeatures, 1);
        OptionCheck.AtLeast(StateChannels, 1);
        OptionCheck.AtLeast(Pooling, 1);
        if (Stride is not (null or 1 or 2))
            throw new ArgumentOutOfRangeException(nameof(Stride), Stride, "Must be 1 or 2.");
        OptionCheck.Coefficient(Coefficient);
        OptionCheck.Defined(Activation);
        OptionCheck.Defined(Gradient);
        OptionCheck.Defined(Solver);
        OptionCheck.NonNegative(SolverTolerance);
        OptionCheck.AtLeast(SolverMaxIterations, 1);
        ValidateSupervised();
    }
}
