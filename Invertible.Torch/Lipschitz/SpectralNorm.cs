using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Lipschitz;

/// <summary>
/// Largest singular value of a matrix by power iteration, as a custom autograd function.
/// </summary>
/// <remarks>
/// <para>Each iteration sets u ← A v / ‖A v‖ and then tests the pair (u, v) with σ = uᵀ A v = ‖A v‖: the residual
/// ‖A v − σ u‖ is zero by construction and ‖Aᵀ u − σ v‖ reuses the product Aᵀ u that the next update v ← Aᵀ u / ‖Aᵀ u‖
/// needs, so the test costs no extra product.</para>
/// <para>Backward: dσ/dA = u vᵀ (u, v held constant — exact at a converged simple singular value).
/// Forward mode: dσ = uᵀ dA v, see <see cref="Jvp(Tensor, Tensor, SpectralNormOptions?, Generator?)"/>.</para>
/// <para>Without a warm start the iteration begins at a random unit vector: a data-dependent start such as a row median
/// can be the zero vector.</para>
/// </remarks>
public static class SpectralNorm
{
    /// <summary>Computes σ, u, v of <paramref name="matrix"/>.</summary>
    /// <param name="matrix">A 2-D floating-point tensor without NaN or infinity.</param>
    /// <param name="u">Optional warm start for the left singular vector (length = rows): the iteration then starts at
    /// v = Aᵀu / ‖Aᵀu‖, so that a single iteration advances both vectors.</param>
    /// <param name="v">Optional warm start for the right singular vector (length = columns), used when <paramref name="u"/> is absent (or Aᵀu = 0).</param>
    /// <param name="options">Stopping rule; <see cref="SpectralNormOptions.Default"/> when null.</param>
    /// <param name="generator">Random source for the start vector when no warm start is given.</param>
    public static SpectralNormResult Compute(Tensor matrix, Tensor? u = null, Tensor? v = null,
        SpectralNormOptions? options = null, Generator? generator = null)
    {
        options ??= SpectralNormOptions.Default;
        options.Validate();
        if (HostPowerIteration.Applies(matrix, u, options) && HostPowerIteration.Run(matrix, u!, options.MaxIterations) is var (hostU, hostV))
        {
            // σ = uᵀ A v with u, v constant: autograd's own gradient u vᵀ, no managed backward callback.
            return new SpectralNormResult(hostU.dot(matrix.mv(hostV)), hostU, hostV, options.MaxIterations, false);
        }
        Validate(matrix, u, v);
        var call = new Call(u, v, options, generator);
        var sigma = SpectralNormFunction.apply(matrix, call)[0];
        return new SpectralNormResult(sigma, call.U!, call.V!, call.Iterations, call.Converged);
    }

    /// <summary>Forward-mode derivative: returns σ(A) and dσ = uᵀ dA v for a tangent dA of the same shape as A.</summary>
    public static (Tensor Sigma, Tensor Tangent) Jvp(Tensor matrix, Tensor tangent, SpectralNormOptions? options = null, Generator? generator = null)
    {
        if (!tangent.shape.SequenceEqual(matrix.shape))
            throw new ArgumentException($"Tangent shape [{string.Join(", ", tangent.shape)}] must equal the matrix shape [{string.Join(", ", matrix.shape)}].", nameof(tangent));
        using var _ = no_grad();
        var result = Compute(matrix, options: options, generator: generator);
        return (result.Sigma, result.U.dot(tangent.mv(result.V)));
    }

    private static void Validate(Tensor matrix, Tensor? u, Tensor? v)
    {
        if (matrix.dim() != 2)
            throw new ArgumentException($"Expected a 2-D matrix, got shape [{string.Join(", ", matrix.shape)}].", nameof(matrix));
        if (!matrix.is_floating_point())
            throw new ArgumentException($"Expected a floating-point matrix, got {matrix.dtype}.", nameof(matrix));
        if (matrix.numel() == 0)
            throw new ArgumentException("The matrix is empty.", nameof(matrix));
        if (!isfinite(matrix).all().item<bool>())
            throw new ArgumentException("The matrix contains NaN or infinite entries.", nameof(matrix));
        if (u is not null && (u.dim() != 1 || u.shape[0] != matrix.shape[0]))
            throw new ArgumentException($"u must have shape [{matrix.shape[0]}], got [{string.Join(", ", u.shape)}].", nameof(u));
        if (v is not null && (v.dim() != 1 || v.shape[0] != matrix.shape[1]))
            throw new ArgumentException($"v must have shape [{matrix.shape[1]}], got [{string.Join(", ", v.shape)}].", nameof(v));
    }

    /// <summary>
    /// One call's inputs and non-differentiable results. They travel beside the autograd function's single output σ
    /// rather than as outputs marked non-differentiable: TorchSharp 0.107 unpins that list before libtorch reads it,
    /// which crashed training when a garbage collection moved it (measured: a segfault in wrapOutputs).
    /// </summary>
    private sealed class Call(Tensor? u, Tensor? v, SpectralNormOptions options, Generator? generator)
    {
        public Tensor? StartU { get; } = u;
        public Tensor? StartV { get; } = v;
        public SpectralNormOptions Options { get; } = options;
        public Generator? Generator { get; } = generator;
        public Tensor? U { get; set; }
        public Tensor? V { get; set; }
        public int Iterations { get; set; }
        public bool Converged { get; set; }
    }

    private sealed class SpectralNormFunction : autograd.MultiTensorFunction<SpectralNormFunction>
    {
        public override string Name => "SpectralNorm";

        public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var a = (Tensor)vars[0];
            var call = (Call)vars[1];
            Tensor sigma, u, v;
            using (no_grad())
            using (var scope = NewDisposeScope())
            {
                v = StartVector(a, call.StartU, call.StartV, call.Generator);
                (sigma, u, v, call.Iterations, call.Converged) = Iterate(a.detach(), v, call.Options);
                scope.MoveToOuter(sigma, u, v);
            }
            call.U = u;
            call.V = v;
            // save_data, not save_for_backward: u, v are constants of the backward, and TorchSharp's saved-variable
            // machinery costs ~0.4 ms per call (measured), more than the power iteration itself.
            ctx.save_data("uv", (u, v));
            return [sigma];
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grads)
        {
            var (u, v) = ((Tensor, Tensor))ctx.get_data("uv");
            var gradA = grads[0] is null ? null : outer(u, v).mul_(grads[0]);
            return [gradA!, null!];
        }

        // From a warm u the start is v ← Aᵀu / ‖Aᵀu‖ (half an iteration), so every call advances both vectors, as
        // torch.nn.utils.spectral_norm does. Starting from the stored v instead froze v whenever one iteration ran per
        // call (the training default): σ̂ = ‖A v₀‖ then stayed below σ and the bound was not enforced in training.
        private static Tensor StartVector(Tensor a, Tensor? u, Tensor? v, Generator? generator)
        {
            foreach (var candidate in Candidates(a, u, v))
            {
                var norm = candidate.norm().ReadDouble();
                if (norm > 0 && double.IsFinite(norm))
                    return candidate.Div(norm);
            }
            // No warm start, or one that carries no direction (Aᵀu = 0 and v = 0): a random one.
            var start = randn(a.shape[1], dtype: a.dtype, device: a.device, generator: generator);
            return start.Div(start.norm().ReadDouble());
        }

        private static IEnumerable<Tensor> Candidates(Tensor a, Tensor? u, Tensor? v)
        {
            if (u is not null)
                yield return a.detach().t().mv(u.detach().to(a.dtype, a.device));
            if (v is not null)
                yield return v.detach().to(a.dtype, a.device);
        }

        private static (Tensor Sigma, Tensor U, Tensor V, int Iterations, bool Converged) Iterate(Tensor a, Tensor v, SpectralNormOptions options)
        {
            var at = a.t();
            Tensor? Restart()
            {
                if (a.abs().max().ReadDouble() == 0)
                    return null;
                return a.abs().sum(dim: 0).AddInPlace(1e-3);
            }
            return OperatorPowerIteration.Iterate(a.mv, at.mv, v, options, Restart);
        }
    }
}
