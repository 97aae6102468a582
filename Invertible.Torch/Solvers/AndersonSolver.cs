using static TorchSharp.torch;

namespace Invertible.Torch.Solvers;

/// <summary>
/// Anderson acceleration (type II), batched per sample.
/// </summary>
/// <remarks>
/// With the last m iterates X_i, their values F_i = f(X_i) and residuals G_i = F_i − X_i, the weights α solve
/// min ‖Σ α_i G_i‖² + λ s ‖α‖² subject to Σ α_i = 1 (s = largest ‖G_i‖², so λ is scale free), through the bordered
/// system [[0, 1ᵀ], [1, G Gᵀ + λ s I]] [μ; α] = [1; 0] in float64 with <c>torch.linalg.solve_ex</c>. The next iterate
/// is β Σ α_i F_i + (1 − β) Σ α_i X_i. A sample whose system is singular or non-finite takes a plain step instead.
/// </remarks>
public sealed class AndersonSolver : FixedPointSolver
{
    /// <summary>Creates the solver; <see cref="FixedPointOptions.Solver"/> is ignored.</summary>
    public AndersonSolver(FixedPointOptions? options = null) : base(options ?? new FixedPointOptions { Solver = FixedPointSolverKind.Anderson }) { }

    /// <inheritdoc />
    protected override void Run(Func<Tensor, Tensor> f, Tensor x, Tracker tracker)
    {
        var memory = Options.AndersonMemory;
        var beta = Options.AndersonMixing;
        var lambda = Options.AndersonRegularization;
        var (batch, width) = (x.shape[0], x.shape[1]);
        using var xs = zeros([batch, memory, width], dtype: x.dtype, device: x.device);
        using var fs = zeros([batch, memory, width], dtype: x.dtype, device: x.device);

        for (var k = 0; ; k++)
        {
            using var scope = NewDisposeScope();
            var fx = f(x);
            if (tracker.Record(x, fx))
                return;
            var slot = k % memory;
            xs[.., slot].copy_(x);
            fs[.., slot].copy_(fx);
            var count = Math.Min(k + 1, memory);
            if (count == 1)
            {
                x.mul_(1 - beta).add_(fx, alpha: beta);
                continue;
            }

            var xHistory = xs[.., ..count];
            var fHistory = fs[.., ..count];
            var g = fHistory.sub(xHistory).to(ScalarType.Float64);
            var gram = g.bmm(g.transpose(1, 2));
            var scale = gram.diagonal(dim1: 1, dim2: 2).amax([1]).mul_(lambda).add_(1e-300);
            var system = zeros([batch, count + 1, count + 1], dtype: ScalarType.Float64, device: x.device);
            system[.., 0, 1..].fill_(1.0);
            system[.., 1.., 0].fill_(1.0);
            system[.., 1.., 1..].copy_(gram.add(eye(count, dtype: ScalarType.Float64, device: x.device).unsqueeze(0).mul(scale.view(-1, 1, 1))));
            var rhs = zeros([batch, count + 1, 1], dtype: ScalarType.Float64, device: x.device);
            rhs[.., 0, 0].fill_(1.0);
            var (solution, info) = linalg.solve_ex(system, rhs);
            var alpha = solution[.., 1.., 0];
            var bad = info.ne(0).logical_or_(isfinite(alpha).all(1).logical_not());
            var plain = zeros([batch, count], dtype: ScalarType.Float64, device: x.device);
            plain[.., slot].fill_(1.0);
            alpha = where(bad.unsqueeze(1), plain, alpha).to(x.dtype).unsqueeze(1);

            var mixedF = alpha.bmm(fHistory).squeeze(1);
            if (beta == 1.0)
                x.copy_(mixedF);
            else
                x.copy_(mixedF.mul_(beta).add_(alpha.bmm(xHistory).squeeze(1), alpha: 1 - beta));
        }
    }
}
