using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Solvers;

/// <summary>
/// Batched Krylov solvers for A x = b with A given as a product x ↦ A x on rows ([batch, n] → [batch, n]): each row
/// is an independent system with the same operator.
/// </summary>
public static class KrylovSolver
{
    /// <summary>Solves A x = b from x = 0.</summary>
    public static (Tensor Solution, KrylovStatistics Statistics) Solve(Func<Tensor, Tensor> matvec, Tensor b, KrylovOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(matvec);
        options ??= new KrylovOptions();
        options.Validate();
        if (b.dim() != 2 || b.shape[0] < 1)
            throw new ArgumentException($"Expected right-hand sides as [batch, n] rows, got shape [{string.Join(", ", b.shape)}].", nameof(b));
        if (!isfinite(b).all().item<bool>())
            throw new ArgumentException("The right-hand side contains NaN or infinite values.", nameof(b));
        using var _ = no_grad();
        return options.Method == KrylovMethod.ConjugateGradient ? ConjugateGradient(matvec, b, options) : Gmres(matvec, b, options);
    }

    private static double[] RowNorms(Tensor rows) => rows.norm(1).to(ScalarType.Float64).cpu().data<double>().ToArray();

    private static (Tensor, KrylovStatistics) ConjugateGradient(Func<Tensor, Tensor> matvec, Tensor b, KrylovOptions options)
    {
        var bNorm = RowNorms(b).Select(n => Math.Max(n, 1e-300)).ToArray();
        var x = zeros_like(b);
        var r = b.clone();
        var p = r.clone();
        var rs = r.Square().sum(dim: 1, keepdim: true);
        var residual = 1.0;
        var iterations = 0;
        while (iterations < options.MaxIterations)
        {
            using var scope = NewDisposeScope();
            var ap = matvec(p);
            iterations++;
            var curvature = p.mul(ap).sum(dim: 1, keepdim: true);
            var alpha = rs.div(where(curvature.abs().Gt(0), curvature, ones_like(curvature)));
            x.AddInPlace(p.mul(alpha));
            r.sub_(ap.mul(alpha));
            var rsNew = r.Square().sum(dim: 1, keepdim: true);
            residual = RowNorms(r).Select((n, i) => n / bNorm[i]).Max();
            if (residual <= options.Tolerance)
                break;
            var beta = rsNew.div(where(rs.Gt(0), rs, ones_like(rs)));
            p.mul_(beta).AddInPlace(r);
            rs.copy_(rsNew);
        }
        // The recursively updated residual drifts from the true one in floating point; report the true residual.
        residual = RowNorms(b.sub(matvec(x))).Select((v, i) => v / bNorm[i]).Max();
        return (x, new KrylovStatistics(KrylovMethod.ConjugateGradient, iterations, residual, residual <= options.Tolerance));
    }

    private static (Tensor, KrylovStatistics) Gmres(Func<Tensor, Tensor> matvec, Tensor b, KrylovOptions options)
    {
        var (batch, n) = (b.shape[0], b.shape[1]);
        var bNorm = RowNorms(b).Select(v => Math.Max(v, 1e-300)).ToArray();
        var x = zeros_like(b);
        var residual = 1.0;
        var iterations = 0;
        while (iterations < options.MaxIterations)
        {
            // Each cycle starts from the true residual: the least-squares one can drift from it.
            using var cycle = NewDisposeScope();
            var r = b.sub(matvec(x));
            iterations++;
            var beta = r.norm(1, keepdim: true);
            residual = RowNorms(r).Select((v, i) => v / bNorm[i]).Max();
            if (residual <= options.Tolerance || iterations >= options.MaxIterations)
                break;
            var m = Math.Min(options.Restart, options.MaxIterations - iterations + 1);
            var basis = new List<Tensor> { r.div(beta.ClampMin(1e-300)) };
            var hessenberg = zeros([batch, m + 1, m], dtype: b.dtype, device: b.device);
            Tensor? y = null;
            for (var k = 0; k < m && iterations < options.MaxIterations; k++)
            {
                // Arnoldi with modified Gram–Schmidt, per row.
                var w = matvec(basis[k]);
                iterations++;
                for (var j = 0; j <= k; j++)
                {
                    var h = w.mul(basis[j]).sum(dim: 1, keepdim: true);
                    hessenberg[.., j, k] = h.squeeze(1);
                    w = w.sub(basis[j].mul(h));
                }
                var norm = w.norm(1, keepdim: true);
                hessenberg[.., k + 1, k] = norm.squeeze(1);
                basis.Add(w.div(norm.ClampMin(1e-300)));

                // min ‖β e₁ − H y‖ per row (a tiny least-squares problem in float64).
                var h64 = hessenberg[.., ..(k + 2), ..(k + 1)].to(ScalarType.Float64);
                var rhs = zeros([batch, k + 2, 1], dtype: ScalarType.Float64, device: b.device);
                rhs[.., 0, 0] = beta.squeeze(1).to(ScalarType.Float64);
                y = linalg.lstsq(h64, rhs).Item1;
                var leastSquaresResidual = RowNorms(h64.bmm(y).sub(rhs).squeeze(2));
                residual = leastSquaresResidual.Select((v, i) => v / bNorm[i]).Max();
                if (residual <= options.Tolerance)
                    break;
            }
            if (y is not null)
            {
                var vectors = stack(basis.Take((int)y.shape[1]).ToArray(), 1);
                x.AddInPlace(y.to(b.dtype).transpose(1, 2).bmm(vectors).squeeze(1));
            }
        }
        return (x, new KrylovStatistics(KrylovMethod.Gmres, iterations, residual, residual <= options.Tolerance));
    }
}
