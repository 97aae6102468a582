namespace Invertible.Torch.Onnx;

/// <summary>Options of the ONNX exporters. Every property has a documented default.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>Default values.</summary>
    public static class Defaults
    {
        /// <summary>Default <see cref="OnnxExportOptions.Opset"/>.</summary>
        public const int Opset = 17;
        /// <summary>Default <see cref="OnnxExportOptions.Tolerance"/>.</summary>
        public const double Tolerance = 1e-6;
        /// <summary>Default <see cref="OnnxExportOptions.MaxIterations"/>.</summary>
        public const int MaxIterations = 200;
    }

    /// <summary>ai.onnx opset, 17 to 26 (what ONNX Runtime 1.31 accepts). Default 17 (IR 8), the broadly compatible choice.</summary>
    public int Opset { get; init; } = Defaults.Opset;

    /// <summary>
    /// Per-row relative residual ‖f(x) − x‖ / ‖f(x)‖ at which a fixed-point loop freezes a row (inverse blocks,
    /// equilibrium solves). Default 1e-6.
    /// </summary>
    public double Tolerance { get; init; } = Defaults.Tolerance;

    /// <summary>Iteration cap of every fixed-point loop. Default 200.</summary>
    public int MaxIterations { get; init; } = Defaults.MaxIterations;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Opset is < 17 or > 26) throw new ArgumentOutOfRangeException(nameof(Opset), Opset, "Supported opsets are 17 to 26.");
        if (!(Tolerance >= 0) || double.IsInfinity(Tolerance)) throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "Must be finite and non-negative.");
        if (MaxIterations < 1) throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, "Must be at least 1.");
    }

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
