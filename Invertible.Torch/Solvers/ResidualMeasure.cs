namespace Invertible.Torch.Solvers;

/// <summary>
/// The stopping rule of every fixed-point solve, TorchSharp and ONNX alike: a sample has converged when
/// ‖f(x) − x‖ ≤ Tolerance · ‖f(x)‖ + AbsoluteTolerance. Its residual is reported in the rule's own units,
/// ‖f(x) − x‖ / (‖f(x)‖ + AbsoluteTolerance / Tolerance) — the relative residual when there is no absolute floor — so a
/// sample has converged exactly when its reported residual is at most Tolerance. Under a purely absolute rule
/// (Tolerance 0) the residual is ‖f(x) − x‖ / ‖f(x)‖ and the rule ‖f(x) − x‖ ≤ AbsoluteTolerance.
/// </summary>
internal static class ResidualMeasure
{
    /// <summary>The absolute floor expressed as a norm added to ‖f(x)‖ (0 under a purely absolute rule).</summary>
    public static double FloorScale(double tolerance, double absoluteTolerance) => tolerance > 0 ? absoluteTolerance / tolerance : 0;

    /// <summary>The residual of a sample with ‖f(x) − x‖ = <paramref name="absolute"/> and ‖f(x)‖ = <paramref name="scale"/>.</summary>
    public static double Of(double absolute, double scale, FixedPointOptions options)
        => absolute / Math.Max(scale + FloorScale(options.Tolerance, options.AbsoluteTolerance), 1e-30);

    /// <summary>Whether a sample with this residual (and absolute residual) meets the rule.</summary>
    public static bool Meets(double residual, double absolute, FixedPointOptions options)
        => options.Tolerance > 0 ? residual <= options.Tolerance : absolute <= options.AbsoluteTolerance;

    /// <summary>The factor by which a sample misses the rule's bound (≤ 1 when it meets it; ∞ when the bound is 0).</summary>
    public static double Gap(double residual, double absolute, FixedPointOptions options)
        => options.Tolerance > 0 ? residual / options.Tolerance : absolute / options.AbsoluteTolerance;
}
