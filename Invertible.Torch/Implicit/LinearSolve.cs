using Invertible.Torch.Core;
using Invertible.Torch.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Implicit;

/// <summary>
/// Differentiable linear solves x = A⁻¹ b with analytic gradients ∂L/∂b = A⁻ᵀ v and ∂L/∂A = −(A⁻ᵀ v) xᵀ.
/// </summary>
/// <remarks>
/// <para>Dense: batched over leading dimensions; one LU factorisation serves the forward solve and the adjoint solve.</para>
/// <para>Matrix-free: A is a product x ↦ A(θ) x on [batch, n] rows (a closure over its parameters θ); the forward and
/// the adjoint solves use the same Krylov method (conjugate gradient for SPD A, GMRES otherwise, with Aᵀ w from a
/// vector–Jacobian product), and ∂L/∂θ = −(∂(A(θ) x)/∂θ)ᵀ w with w = A⁻ᵀ v.</para>
/// </remarks>
public static class LinearSolve
{
    /// <summary>x = A⁻¹ b for A [..., n, n] and b [..., n] or [..., n, k].</summary>
    /// <exception cref="ArgumentException">Shapes do not match, values are not finite, or A is singular.</exception>
    public static Tensor Solve(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.dim() < 2 || a.shape[^1] != a.shape[^2])
            throw new ArgumentException($"A must be square in its last two dimensions, got shape [{string.Join(", ", a.shape)}].", nameof(a));
        var vector = b.dim() == a.dim() - 1;
        if (!vector && b.dim() != a.dim())
            throw new ArgumentException($"b must have shape [..., {a.shape[^1]}] or [..., {a.shape[^1]}, k] for A of shape [{string.Join(", ", a.shape)}], got [{string.Join(", ", b.shape)}].", nameof(b));
        if (b.shape[vector ? ^1 : ^2] != a.shape[^1])
            throw new ArgumentException($"b has {b.shape[vector ? ^1 : ^2]} rows; A has {a.shape[^1]}.", nameof(b));
        if (!isfinite(a).all().item<bool>()) throw new ArgumentException("A contains NaN or infinite values.", nameof(a));
        if (!isfinite(b).all().item<bool>()) throw new ArgumentException("b contains NaN or infinite values.", nameof(b));
        return new DenseCall().Apply(a, b);
    }

    /// <summary>x = A⁻¹ b for A given as <paramref name="matvec"/> on [batch, n] rows, differentiable in b and in <paramref name="parameters"/>.</summary>
    /// <param name="matvec">x ↦ A x (linear in x), computed from <paramref name="parameters"/>.</param>
    /// <param name="b">[batch, n] right-hand sides.</param>
    /// <param name="parameters">The tensors A depends on (those requiring grad receive gradients).</param>
    /// <param name="options">Method and tolerance.</param>
    public static (Tensor Solution, LinearSolveStatistics Statistics) Solve(Func<Tensor, Tensor> matvec, Tensor b,
        IReadOnlyList<Tensor> parameters, KrylovOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(matvec);
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= new KrylovOptions();
        options.Validate();
        var call = new MatrixFreeCall(matvec, options);
        var solution = call.Apply([b, .. parameters]);
        return (solution, call.Statistics);
    }

    /// <summary>One LU factorisation serves the forward solve and the adjoint solve.</summary>
    private sealed class DenseCall : ImplicitFunction
    {
        private Tensor? lu, pivots;
        private bool vector;

        protected override Tensor Forward(Tensor[] inputs)
        {
            var (a, b) = (inputs[0].detach(), inputs[1].detach());
            vector = b.dim() == a.dim() - 1;
            try
            {
                var (factor, maybePivots) = linalg.lu_factor(a);
                (lu, pivots) = (factor, maybePivots!);
            }
            catch (System.Runtime.InteropServices.ExternalException e)
            {
                throw new ArgumentException("A is singular (a zero pivot in its LU factorisation).", "a", e);
            }
            if (lu.diagonal(dim1: -2, dim2: -1).Eq(0).any().item<bool>())
                throw new ArgumentException("A is singular (a zero pivot in its LU factorisation).", "a");
            var x = linalg.lu_solve(lu, pivots, vector ? b.unsqueeze(-1) : b);
            return vector ? x.squeeze(-1) : x;
        }

        protected override Tensor?[] Backward(Tensor x, Tensor[] inputs, Tensor gradOutput)
        {
            using var _ = no_grad();
            var (v, columns) = vector ? (gradOutput.unsqueeze(-1), x.unsqueeze(-1)) : (gradOutput, x);
            var gradB = linalg.lu_solve(lu!, pivots!, v, adjoint: true);
            var gradA = gradB.matmul(columns.transpose(-2, -1)).neg_();
            return [gradA, vector ? gradB.squeeze(-1) : gradB];
        }
    }

    private sealed class MatrixFreeCall(Func<Tensor, Tensor> matvec, KrylovOptions options) : ImplicitFunction
    {
        public LinearSolveStatistics Statistics { get; } = new();

        // The product reads the caller's tensors, so backward differentiates with respect to those, not to copies.
        protected override Tensor Save(Tensor input) => input;

        protected override Tensor Forward(Tensor[] inputs)
        {
            var (x, stats) = KrylovSolver.Solve(matvec, inputs[0].detach(), options);
            Statistics.Forward = stats;
            if (options.ThrowOnNonConvergence && !stats.Converged)
                throw new KrylovNotConvergedException("a linear system", stats);
            return x;
        }

        protected override Tensor?[] Backward(Tensor x, Tensor[] inputs, Tensor v)
        {
            using var _ = enable_grad();
            var parameters = inputs[1..];
            var point = x.detach().requires_grad_(true);
            var product = matvec(point);
            Tensor Transposed(Tensor w) => autograd.grad([product], [point], [w], retain_graph: true)[0];
            var (w, stats) = KrylovSolver.Solve(options.Method == KrylovMethod.ConjugateGradient ? matvec : Transposed, v.detach(), options);
            Statistics.Backward = stats;
            if (options.ThrowOnNonConvergence && !stats.Converged)
                BackwardFailures.Record(new KrylovNotConvergedException("the adjoint of a linear system", stats));
            var result = new Tensor?[1 + parameters.Length];
            result[0] = w;
            var trainable = Enumerable.Range(0, parameters.Length).Where(i => parameters[i].requires_grad).ToArray();
            if (trainable.Length > 0)
            {
                var grads = autograd.grad([product], trainable.Select(i => parameters[i]).ToArray(), [w], allow_unused: true);
                for (var j = 0; j < trainable.Length; j++)
                    result[1 + trainable[j]] = grads[j] is { IsInvalid: false } grad ? grad.neg() : null;
            }
            return result;
        }
    }
}

/// <summary>Statistics of a matrix-free solve: forward, and the adjoint once backward has run.</summary>
public sealed class LinearSolveStatistics
{
    /// <summary>The forward solve.</summary>
    public KrylovStatistics? Forward { get; internal set; }

    /// <summary>The adjoint solve, or null until backward has run.</summary>
    public KrylovStatistics? Backward { get; internal set; }

    /// <inheritdoc />
    public override string ToString() => $"linear solve: forward {Forward?.ToString() ?? "not run"}" + (Backward is null ? "" : $"; backward {Backward}");
}
