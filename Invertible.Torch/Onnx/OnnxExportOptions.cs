using Invertible.Torch.Core;
using Invertible.Torch.Solvers;

namespace Invertible.Torch.Onnx;

/// <summary>Options of the ONNX exporters. Every property has a documented default.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>Default values.</summary>
    public static class Defaults
    {
        /// <summary>Default <see cref="OnnxExportOptions.Opset"/>.</summary>
        public const int Opset = 17;
    }

    /// <summary>ai.onnx opset, 17 to 26 (what ONNX Runtime 1.31 accepts). Default 17 (IR 8), the broadly compatible choice.</summary>
    public int Opset { get; init; } = Defaults.Opset;

    /// <summary>
    /// Relative part of the per-row stopping rule of every fixed-point loop (inverse blocks, equilibrium solves): a row is
    /// frozen when ‖f(x) − x‖ ≤ Tolerance · ‖f(x)‖ + <see cref="AbsoluteTolerance"/>, the rule of the TorchSharp solvers.
    /// Default (null): the model's own forward solver tolerance.
    /// </summary>
    public double? Tolerance { get; init; }

    /// <summary>Absolute part of the stopping rule. Default (null): the model's own.</summary>
    public double? AbsoluteTolerance { get; init; }

    /// <summary>
    /// The iteration of every fixed-point loop. Default <see cref="OnnxLoopSolver.Picard"/>: each ONNX operator costs
    /// about half a microsecond at batch 1 and Anderson adds 11 per iteration, so Anderson pays only on maps that
    /// contract slowly (a hard block at batch 1: 185 µs vs 262 µs) and costs 1.4–2.6× on easy ones (an untrained
    /// equilibrium network at batch 1024: 46 ms vs 18 ms). Choose Anderson for trained models whose solves take
    /// tens of iterations.
    /// </summary>
    public OnnxLoopSolver Solver { get; init; } = OnnxLoopSolver.Picard;

    /// <summary>
    /// Iteration cap of every fixed-point loop. Default (null): <see cref="DefaultCapFactor"/> times the model's own, because
    /// the loop's Picard (or memory-2 Anderson) iteration needs more steps than the model's solver (the default
    /// Adaptive runs Anderson with five differences): a monotone equilibrium network trained on the digits needed up to
    /// 148 Picard iterations for rows its TorchSharp solve finished under the cap of 100. Rows stop when they converge,
    /// so the larger cap costs only rows that would otherwise be reported unconverged.
    /// </summary>
    public int? MaxIterations { get; init; }

    /// <summary>The default loop cap as a multiple of the model's own cap (<see cref="MaxIterations"/>).</summary>
    public const int DefaultCapFactor = 10;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.Between(Opset, 17, 26);
        OptionCheck.NonNegative(Tolerance);
        OptionCheck.NonNegative(AbsoluteTolerance);
        OptionCheck.Defined(Solver);
        OptionCheck.AtLeast(MaxIterations, 1);
    }

    /// <summary>The loop settings: these options where set, otherwise the model's solver options.</summary>
    internal LoopSettings Loop(FixedPointOptions model) => new(Tolerance ?? model.Tolerance, AbsoluteTolerance ?? model.AbsoluteTolerance, MaxIterations ?? (int)Math.Min(int.MaxValue, (long)model.MaxIterations * DefaultCapFactor), Solver);

    /// <summary>The IR version that goes with the opset (ONNX's release table).</summary>
    internal long IrVersion => Opset switch
    {
        <= 18 => 8,
        <= 20 => 9,
        <= 22 => 10,
        23 => 11,
        _ => 12,
    };
}

/// <summary>The stopping rule and cap of the exported fixed-point loops, recorded in the model's metadata.</summary>
internal readonly record struct LoopSettings(double Tolerance, double AbsoluteTolerance, int MaxIterations, OnnxLoopSolver Solver);
