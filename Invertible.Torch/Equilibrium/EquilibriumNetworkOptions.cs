using Invertible.Torch.Core;
using Invertible.Torch.Lipschitz;
using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Torch.Equilibrium;

/// <summary>Architecture of an <see cref="EquilibriumNetwork"/>. Every property has a documented default.</summary>
public sealed class EquilibriumNetworkOptions
{
    /// <summary>Default values, the ML.NET trainer's as well.</summary>
    public static class Defaults
    {
        /// <summary>Default <see cref="EquilibriumNetworkOptions.StateFeatures"/>.</summary>
        public const int StateFeatures = 64;
        /// <summary>Default <see cref="EquilibriumNetworkOptions.InjectionFeatures"/>.</summary>
        public const int InjectionFeatures = 64;
        /// <summary>Default <see cref="EquilibriumNetworkOptions.Monotone"/>.</summary>
        public const bool Monotone = false;
        /// <summary>Default <see cref="EquilibriumNetworkOptions.Coefficient"/>: a strong contraction, solved in a few iterations.</summary>
        public const double Coefficient = 0.5;
        /// <summary>Default <see cref="EquilibriumNetworkOptions.Activation"/>.</summary>
        public const LipschitzActivation Activation = LipschitzActivation.LipSwish;
        /// <summary>Default <see cref="EquilibriumOptions.Gradient"/> of <see cref="EquilibriumNetworkOptions.Equilibrium"/>: one
        /// application of the cell at z*, exact up to (I − J)⁻¹, which a contraction of 0.5 keeps close to the identity.</summary>
        public const EquilibriumBackward Gradient = EquilibriumBackward.JacobianFree;
        /// <summary>Default solver of <see cref="EquilibriumNetworkOptions.Equilibrium"/>'s solves.</summary>
        public const FixedPointSolverKind Solver = FixedPointOptions.Defaults.Solver;
        /// <summary>Default relative tolerance of <see cref="EquilibriumNetworkOptions.Equilibrium"/>'s solves: a classifier's
        /// scores do not need the state beyond it.</summary>
        public const double SolverTolerance = 1e-3;
        /// <summary>Default iteration cap of <see cref="EquilibriumNetworkOptions.Equilibrium"/>'s solves.</summary>
        public const int SolverMaxIterations = 100;
        /// <summary>Default <see cref="EquilibriumNetworkOptions.StateChannels"/>.</summary>
        public const int StateChannels = 32;
        /// <summary>Side of the pooled grid the default <see cref="EquilibriumNetworkOptions.Pooling"/> aims at (monDEQ pools
        /// 28×28 feature maps to 7×7).</summary>
        public const int PooledSide = 7;
    }

    /// <summary>Width of the equilibrium state z. Default 64.</summary>
    public int StateFeatures { get; init; } = Defaults.StateFeatures;

    /// <summary>Width of the projected input injected into the cell. Default 64.</summary>
    public int InjectionFeatures { get; init; } = Defaults.InjectionFeatures;

    /// <summary>Use the monotone-operator cell instead of the contractive one. Default false.</summary>
    public bool Monotone { get; init; } = Defaults.Monotone;

    /// <summary>Contractive cell: bound c on ‖W‖, in (0, 1). Default 0.5.</summary>
    public double Coefficient { get; init; } = Defaults.Coefficient;

    /// <summary>Contractive cell: its 1-Lipschitz activation. Default LipSwish.</summary>
    public LipschitzActivation Activation { get; init; } = Defaults.Activation;

    /// <summary>
    /// A linear path from the input to the scores beside the equilibrium features, so the network contains the linear
    /// model (see <see cref="EquilibriumNetwork.InitializeLinear"/>). Default false.
    /// </summary>
    public bool LinearSkip { get; init; }

    /// <summary>
    /// Solver and gradient options of the equilibrium layer. Default: the Jacobian-free gradient, and forward solves by the
    /// adaptive solver to relative residual 1e-3 in at most 100 iterations (see <see cref="Defaults"/>).
    /// </summary>
    public EquilibriumOptions Equilibrium { get; init; } = DefaultEquilibrium;

    /// <summary>The default <see cref="Equilibrium"/>.</summary>
    public static EquilibriumOptions DefaultEquilibrium { get; } = EquilibriumFor(Defaults.Solver, Defaults.SolverTolerance, Defaults.SolverMaxIterations, Defaults.Gradient);

    /// <summary>Equilibrium options with the same solve forward and for the adjoint.</summary>
    public static EquilibriumOptions EquilibriumFor(FixedPointSolverKind solver, double tolerance, int maxIterations, EquilibriumBackward gradient)
    {
        var solve = new FixedPointOptions { Solver = solver, Tolerance = tolerance, MaxIterations = maxIterations };
        return new EquilibriumOptions { Forward = solve, Adjoint = solve, Gradient = gradient };
    }

    /// <summary>
    /// The input rows are images of this shape (channel-major): the cell is then the convolutional monotone cell
    /// (<see cref="ConvolutionalMonotoneCell"/>, <see cref="StateChannels"/> channels at the image's height and width,
    /// injecting the image by a 3×3 convolution, so there is no input projection), and the head reads the equilibrium's
    /// feature maps average-pooled by <see cref="Pooling"/>. <see cref="StateFeatures"/>, <see cref="InjectionFeatures"/>,
    /// <see cref="Monotone"/>, <see cref="Coefficient"/> and <see cref="Activation"/> do not apply. Default null: rows.
    /// </summary>
    public ImageShape? Image { get; init; }

    /// <summary>Image only: channels of the equilibrium's feature maps. Default 32.</summary>
    public int StateChannels { get; init; } = Defaults.StateChannels;

    /// <summary>
    /// Image only: stride of the cell's injection, 1 or 2 — the equilibrium's feature maps have the image's height and
    /// width divided by it. Default (null): 2 when the image's shorter side is at least 16 (a 28×28 image's equilibrium
    /// runs on 14×14, each solver iteration about 6× cheaper), else 1.
    /// </summary>
    public int? Stride { get; init; }

    internal int StrideFor(ImageShape image) => Stride ?? (Math.Min(image.Height, image.Width) >= 16 ? 2 : 1);

    /// <summary>
    /// Image only: side of the average-pooling window (and stride) between the equilibrium's feature maps and the head.
    /// Default (null): the feature maps' shorter side / 7, at least 1 (28×28 images at stride 2 → 14×14 maps → 2, a 7×7
    /// grid; 8×8 → 1).
    /// </summary>
    public int? Pooling { get; init; }

    internal int PoolingFor(ImageShape image)
    {
        var stride = StrideFor(image);
        var (height, width) = ((image.Height - 1) / stride + 1, (image.Width - 1) / stride + 1);
        var pooling = Pooling ?? Math.Max(1, Math.Min(height, width) / Defaults.PooledSide);
        if (pooling > Math.Min(height, width))
            throw new ArgumentException($"A pooling window of {pooling} does not fit the {height}×{width} feature maps of the {image} image at stride {stride}.", nameof(Pooling));
        return pooling;
    }

    /// <summary>Parameter type. Default float32.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.AtLeast(StateFeatures, 1);
        OptionCheck.AtLeast(InjectionFeatures, 1);
        OptionCheck.AtLeast(StateChannels, 1);
        OptionCheck.AtLeast(Pooling, 1);
        if (Stride is not (null or 1 or 2))
            throw new ArgumentOutOfRangeException(nameof(Stride), Stride, "Must be 1 or 2.");
        if (Image is { } image)
            PoolingFor(image);
        OptionCheck.Coefficient(Coefficient);
        OptionCheck.Defined(Activation);
        OptionCheck.FloatingPoint(DType);
        OptionCheck.Required(Equilibrium);
        Equilibrium.Validate();
    }
}
