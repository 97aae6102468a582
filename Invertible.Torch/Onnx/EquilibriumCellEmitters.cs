using Invertible.Torch.Core;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Writes an equilibrium cell into a graph as a fixed-point iteration s ← T(s) on a loop variable s: the injection,
/// constant during the solve and so emitted once outside the loop, the map T emitted into the loop body, and the
/// equilibrium state z* read from the loop's fixed point s*.
/// </summary>
internal interface IEquilibriumCellEmitter
{
    /// <summary>The loop-constant term computed from the cell's input u (for the contractive cell U u + b), [batch, state].</summary>
    string EmitInjection(OnnxGraphBuilder g, string u);

    /// <summary>T(s) given the injected term.</summary>
    string EmitMap(OnnxGraphBuilder body, string s, string injection);

    /// <summary>The equilibrium state z* from the fixed point s* of T.</summary>
    string EmitState(OnnxGraphBuilder g, string solution);
}

/// <summary>The emitter of each cell kind.</summary>
internal static class EquilibriumCellEmitters
{
    public static IEquilibriumCellEmitter For(IEquilibriumFunction function, OnnxGraphBuilder top) => function switch
    {
        EquilibriumCell cell => new ContractiveCellEmitter(cell, top),
        MonotoneCell monotone => new MonotoneCellEmitter(monotone, top),
        ConvolutionalMonotoneCell convolutional => new ConvolutionalMonotoneCellEmitter(convolutional, top),
        _ => throw new NotSupportedException($"The equilibrium function is a {function.GetType().Name}; only EquilibriumCell, MonotoneCell and ConvolutionalMonotoneCell can be exported."),
    };

    /// <summary><see cref="EquilibriumCell"/>: f(z, u) = φ(W z + U u + b).</summary>
    private sealed class ContractiveCellEmitter(EquilibriumCell cell, OnnxGraphBuilder top) : IEquilibriumCellEmitter
    {
        private readonly string recurrentT = top.Initializer("recurrent_weight_t", cell.Recurrent.EffectiveWeight().detach().t());
        private readonly double? beta = cell.ActivationFunction.Beta(cell.ActivationFunction.EffectiveParameters().ToArray())?.ReadDouble();

        public string EmitInjection(OnnxGraphBuilder g, string u) => g.Linear(u, cell.Injection.weight!, cell.Injection.bias, "injection");

        public string EmitMap(OnnxGraphBuilder body, string z, string injection)
            => cell.ActivationFunction.Math.Value(new OnnxAlgebra(body), body.Add(body.MatMul(z, recurrentT), injection),
                beta is { } b ? body.Scalar((float)b, "beta") : null);

        public string EmitState(OnnxGraphBuilder g, string solution) => solution;
    }

    /// <summary>
    /// <see cref="MonotoneCell"/>, solved by Peaceman–Rachford splitting (monDEQ) rather than the cell's forward–backward
    /// map: with the weights fixed, the resolvent V = (I + α(I − W))⁻¹ is a constant, and the iteration on s,
    /// T(s) = 2V(|s| + α b̃) − |s| = |s| (2Vᵀ − I) + 2α b̃ Vᵀ in rows (b̃ = U u + b; 2 ReLU(s) − s = |s|), is a contraction for
    /// every α > 0 because I − W ⪰ m I, where the forward–backward step of the cell is guaranteed only for
    /// α ≤ 2m/‖I − W‖², which trained weights exceed. z* = ReLU(s*). α = 1/‖I − W‖₂.
    /// </summary>
    private sealed class MonotoneCellEmitter : IEquilibriumCellEmitter
    {
        private readonly Tensor injectionWeight, injectionBias;
        private readonly string reflection;

        public MonotoneCellEmitter(MonotoneCell cell, OnnxGraphBuilder top)
        {
            var n = cell.StateFeatures;
            var dtype = cell.Injection.weight!.dtype;
            var identity = eye(n, dtype: ScalarType.Float64);
            var complement = identity.sub(cell.Weight().detach().cpu().to(ScalarType.Float64));
            var alpha = 1.0 / HeldScalars.SpectralNorm(complement).ReadDouble();
            var resolvent = linalg.inv(identity.Add(complement.Mul(alpha)));
            // The loop-constant term 2α V (U u + b), folded into one linear map of u in float64.
            var scaled = resolvent.Mul(2 * alpha);
            injectionWeight = scaled.mm(cell.Injection.weight!.detach().cpu().to(ScalarType.Float64)).to(dtype);
            injectionBias = scaled.mv(cell.Injection.bias!.detach().cpu().to(ScalarType.Float64)).to(dtype);
            reflection = top.Initializer("monotone_reflection", resolvent.t().Mul(2).sub(identity).to(dtype));
        }

        public string EmitInjection(OnnxGraphBuilder g, string u) => g.Linear(u, injectionWeight, injectionBias, "injection");

        public string EmitMap(OnnxGraphBuilder body, string s, string injection)
            => body.Add(body.MatMul(body.Node("Abs", [s]), reflection), injection);

        public string EmitState(OnnxGraphBuilder g, string solution) => g.Node("Relu", [solution]);
    }

    /// <summary>
    /// <see cref="ConvolutionalMonotoneCell"/>, the same Peaceman–Rachford iteration with V applied as a circular
    /// convolution by its full-size kernel (<see cref="ConvolutionalMonotoneCell.ResolventKernel"/>, the factor 2 folded
    /// in): the image is wrapped by concatenating its slices from row and column 1, then a valid Conv. Cost per application
    /// C²·(H·W)² — the dense operator's; ONNX has no complex type for the per-frequency form the training uses.
    /// </summary>
    private sealed class ConvolutionalMonotoneCellEmitter(ConvolutionalMonotoneCell cell, OnnxGraphBuilder top) : IEquilibriumCellEmitter
    {
        private readonly string doubledResolvent = top.Initializer("monotone_resolvent_kernel", cell.ResolventKernel().Mul(2));
        private readonly double step = cell.EffectiveParameters().ElementAt(3).ReadDouble();

        /// <summary>2V applied to state rows.</summary>
        private string Resolve(OnnxGraphBuilder g, string rows)
        {
            var state = cell.State;
            var images = g.Node("Reshape", [rows, g.Int64("state_image", -1, state.Channels, state.Height, state.Width)]);
            var wrapped = Wrap(g, Wrap(g, images, 2, state.Height), 3, state.Width);
            return g.Node("Reshape", [g.Node("Conv", [wrapped, doubledResolvent]), g.Int64("state_rows", -1, state.Size)]);
        }

        /// <summary>[x[1:], x] along <paramref name="axis"/>: the image wrapped to 2n − 1 starting at index 1.</summary>
        private static string Wrap(OnnxGraphBuilder g, string images, long axis, int size)
            => g.Node("Concat", [g.Node("Slice", [images, g.Int64("wrap_start", 1), g.Int64("wrap_end", size), g.Int64("wrap_axis", axis)]), images], null,
                OnnxGraphBuilder.Attribute("axis", axis));

        /// <summary>2αV(U u + b), the loop constant.</summary>
        public string EmitInjection(OnnxGraphBuilder g, string u)
        {
            var input = cell.Input;
            var images = g.Node("Reshape", [u, g.Int64("input_image", -1, input.Channels, input.Height, input.Width)]);
            var half = ConvolutionalMonotoneCell.KernelSize / 2;
            var injected = g.Node("Conv", [images, g.Initializer("injection_kernel", cell.Injection.weight!.detach()), g.Initializer("injection_bias", cell.Injection.bias!.detach())],
                null, OnnxGraphBuilder.Attribute("pads", [half, half, half, half]), OnnxGraphBuilder.Attribute("strides", [cell.Stride, cell.Stride]));
            var rows = g.Node("Reshape", [injected, g.Int64("state_rows", -1, cell.State.Size)]);
            return Resolve(g, g.Mul(rows, g.Scalar((float)step, "monotone_step")));
        }

        /// <summary>T(s) = 2V|s| − |s| + 2αV b̃.</summary>
        public string EmitMap(OnnxGraphBuilder body, string s, string injection)
        {
            var reflected = body.Node("Abs", [s]);
            return body.Add(body.Sub(Resolve(body, reflected), reflected), injection);
        }

        public string EmitState(OnnxGraphBuilder g, string solution) => g.Node("Relu", [solution]);
    }
}
