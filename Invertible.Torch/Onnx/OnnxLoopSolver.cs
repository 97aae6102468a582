namespace Invertible.Torch.Onnx;

/// <summary>The iteration inside the exported fixed-point <c>Loop</c>s (inverse blocks, equilibrium solves).</summary>
public enum OnnxLoopSolver
{
    /// <summary>x ← f(x). Fewest operators per iteration; best when f contracts fast. The default.</summary>
    Picard,

    /// <summary>
    /// Anderson acceleration with memory 2 — <see cref="Solvers.AndersonSolver"/> with two iterates and β = 1 — in
    /// closed form per row: γ = (⟨Δr, r⟩ + λs) / (‖Δr‖² + 2λs), x ← f(x) − γ Δf, with r = f(x) − x, Δ the change since
    /// the last iteration, s = max(‖r‖², ‖r_p‖²) and λ = 1e-4; the first iteration is a Picard step. ONNX has no linear solve, and one difference needs none while
    /// taking most of the gain of a longer memory (measured on a hard block: 11 iterations vs 10 at memory 5, 27 for Picard).
    /// </summary>
    Anderson,
}
