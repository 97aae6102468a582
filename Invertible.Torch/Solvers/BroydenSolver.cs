using static TorchSharp.torch;

namespace Invertible.Torch.Solvers;

/// <summary>
/// Limited-memory "good" Broyden method on the residual r(x) = f(x) − x, batched per sample.
/// </summary>
/// <remarks>
/// The inverse Jacobian of r is approximated by H = −I + Σ u_i v_iᵀ (−I is exact when f is constant, and makes the
/// first step a Picard step). Each step x ← x − H r(x) is followed by the Sherman–Morrison update with
/// s = Δx, y = Δr: vᵀ = sᵀ H, u = (s − H y) / (vᵀ y). Only the last <see cref="FixedPointOptions.BroydenMemory"/>
/// pairs are kept; a sample whose denominator vanishes skips its update.
/// </remarks>
public sealed class BroydenSolver : FixedPointSolver
{
    /// <summary>Creates the solver; <see cref="FixedPointOptions.Solver"/> is ignored.</summary>
    public BroydenSolver(FixedPointOptions? options = null) : base(options ?? new FixedPointOptions { Solver = FixedPointSolverKind.Broyden }) { }

    /// <inheritdoc />
    protected override void Run(Func<Tensor, Tensor> f, Tensor x, Tracker tracker)
    {
        var memory = Options.BroydenMemory;
        var (batch, width) = (x.shape[0], x.shape[1]);
        using var us = zeros([batch, memory, width], dtype: x.dtype, device: x.device);
        using var vs = zeros([batch, memory, width], dtype: x.dtype, device: x.device);
        using var residual = zeros_like(x);
        using var step = zeros_like(x);
        var tiny = x.dtype == ScalarType.Float64 ? 1e-300 : 1e-30;

        // H z = −z + U (Vᵀ z) and Hᵀ z = −z + V (Uᵀ z), per sample.
        Tensor Apply(Tensor left, Tensor right, Tensor z) => left.transpose(1, 2).bmm(right.bmm(z.unsqueeze(2))).squeeze(2).sub_(z);

        for (var k = 0; ; k++)
        {
            using var scope = NewDisposeScope();
            var fx = f(x);
            if (tracker.Record(x, fx))
                return;
            var r = fx.sub(x);
            if (k > 0)
            {
                var s = step;
                var y = r.sub(residual);
                var vT = Apply(vs, us, s);
                var hy = Apply(us, vs, y);
                var denominator = vT.mul(y).sum(dim: 1, keepdim: true);
                var usable = denominator.abs().gt(tiny);
                var u = where(usable, s.sub(hy).div(where(usable, denominator, ones_like(denominator))), zeros_like(s));
                var slot = (k - 1) % memory;
                us[.., slot].copy_(u);
                vs[.., slot].copy_(where(usable, vT, zeros_like(vT)));
            }
            residual.copy_(r);
            step.copy_(Apply(us, vs, r).neg_());
            x.add_(step);
        }
    }
}
