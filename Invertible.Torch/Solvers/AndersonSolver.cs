using Invertible.Torch.Core;
using static TorchSharp.torch;

namespace Invertible.Torch.Solvers;

/// <summary>
/// Anderson acceleration (type II), batched per sample.
/// </summary>
/// <remarks>
/// With the last m iterates X_i, their values F_i = f(X_i) and residuals G_i = F_i − X_i, the weights α solve
/// min ‖Σ α_i G_i‖² + λ s ‖α‖² subject to Σ α_i = 1 (s = largest ‖G_i‖², so λ is scale free), through the bordered
/// system [[0, 1ᵀ], [1, G Gᵀ + λ s I]] [μ; α] = [1; 0], solved in float64 on the host (the Gram matrices are
/// m × m per sample; one transfer per iteration is cheaper than the dozens of tensor operations a batched solve
/// takes). The next iterate
/// is β Σ α_i F_i + (1 − β) Σ α_i X_i. A sample whose system is singular or non-finite takes a plain step instead.
/// </remarks>
public sealed class AndersonSolver : FixedPointSolver
{
    /// <summary>Creates the solver; <see cref="FixedPointOptions.Solver"/> is ignored.</summary>
    public AndersonSolver(FixedPointOptions? options = null) : base(options ?? new FixedPointOptions { Solver = FixedPointSolverKind.Anderson }) { }

    /// <inheritdoc />
    protected override void Run(Func<Tensor, Tensor> f, Tensor x, Tracker tracker) => Iterate(f, x, tracker, Options);

    /// <summary>Anderson iterations from <paramref name="x"/> until <paramref name="tracker"/> says stop (also the
    /// second phase of <see cref="AdaptiveSolver"/>).</summary>
    internal static void Iterate(Func<Tensor, Tensor> f, Tensor x, Tracker tracker, FixedPointOptions options)
    {
        if (x.device.type == TorchSharp.DeviceType.CPU && x.dtype is ScalarType.Float32 or ScalarType.Float64 && x.numel() <= HostElements && x.is_contiguous())
            IterateOnHost(f, x, tracker, options);
        else
            IterateOnDevice(f, x, tracker, options);
    }

    /// <summary>
    /// Batches of at most this many values (rows × width) on the CPU keep the history in managed arrays: the mixing
    /// then costs no tensor operation at all, so an iteration costs about a Picard step.
    /// </summary>
    internal static long HostElements = 512;

    /// <remarks>Same arithmetic as <see cref="IterateOnDevice"/>: residual differences in the tensor's type, Gram
    /// matrices in float64, weights rounded to the tensor's type, the mix accumulated in it.</remarks>
    private static void IterateOnHost(Func<Tensor, Tensor> f, Tensor x, Tracker tracker, FixedPointOptions options)
    {
        var memory = options.AndersonMemory;
        var beta = options.AndersonMixing;
        var lambda = options.AndersonRegularization;
        var single = x.dtype == ScalarType.Float32;
        var (batch, width) = ((int)x.shape[0], (int)x.shape[1]);
        var size = batch * width;
        var xs = new double[memory][];
        var fs = new double[memory][];
        for (var i = 0; i < memory; i++)
            (xs[i], fs[i]) = (new double[size], new double[size]);
        var next = new double[size];
        var residuals = new double[memory * size];
        var gram = new double[batch * memory * memory];
        double Round(double v) => single ? (float)v : v;

        for (var k = 0; ; k++)
        {
            using var scope = NewDisposeScope();
            var fx = f(x);
            if (tracker.Record(x, fx))
                return;
            var slot = k % memory;
            HostTensor.Read(x, xs[slot]);
            HostTensor.Read(fx.contiguous(), fs[slot]);   // the contiguous copy, if any, goes with the iteration's scope
            var count = Math.Min(k + 1, memory);
            if (count == 1)
            {
                for (var i = 0; i < size; i++)
                    next[i] = Round(Round((1 - beta) * xs[slot][i]) + Round(beta * fs[slot][i]));
                HostTensor.Write(next, x);
                continue;
            }
            for (var i = 0; i < count; i++)
                for (var c = 0; c < size; c++)
                    residuals[i * size + c] = Round(fs[i][c] - xs[i][c]);
            for (var sample = 0; sample < batch; sample++)
            {
                var offset = sample * width;
                for (var i = 0; i < count; i++)
                    for (var j = 0; j <= i; j++)
                    {
                        double dot = 0;
                        for (var c = 0; c < width; c++)
                            dot += residuals[i * size + offset + c] * residuals[j * size + offset + c];
                        gram[sample * count * count + i * count + j] = gram[sample * count * count + j * count + i] = dot;
                    }
            }
            var weights = MixingWeights(gram, batch, count, slot, lambda);
            for (var sample = 0; sample < batch; sample++)
            {
                var offset = sample * width;
                for (var c = 0; c < width; c++)
                {
                    double mixedF = 0, mixedX = 0;
                    for (var i = 0; i < count; i++)
                    {
                        var alpha = Round(weights[sample * count + i]);
                        mixedF = Round(mixedF + Round(alpha * fs[i][offset + c]));
                        mixedX = Round(mixedX + Round(alpha * xs[i][offset + c]));
                    }
                    next[offset + c] = beta == 1.0 ? mixedF : Round(Round(mixedF * beta) + mixedX * (1 - beta));
                }
            }
            HostTensor.Write(next, x);
        }
    }

    private static void IterateOnDevice(Func<Tensor, Tensor> f, Tensor x, Tracker tracker, FixedPointOptions options)
    {
        var memory = options.AndersonMemory;
        var beta = options.AndersonMixing;
        var lambda = options.AndersonRegularization;
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
                x.MulInPlace(1 - beta).AddInPlace(fx, alpha: beta);
                continue;
            }

            var xHistory = xs[.., ..count];
            var fHistory = fs[.., ..count];
            // One small transfer per iteration: the Gram matrices go to the host, the (m+1)² systems are solved there
            // (dozens of libtorch dispatches per iteration otherwise dominate at small batch), the weights come back.
            var g = fHistory.sub(xHistory).to(ScalarType.Float64);
            var gram = g.bmm(g.transpose(1, 2)).cpu();
            var weights = MixingWeights(gram.data<double>().ToArray(), (int)batch, count, slot, lambda);
            using var host = empty([batch, 1, count], dtype: ScalarType.Float64);
            host.data<double>().CopyFrom(weights, 0, 0);
            var alpha = host.to(x.dtype, x.device);

            var mixedF = alpha.bmm(fHistory).squeeze(1);
            if (beta == 1.0)
                x.copy_(mixedF);
            else
                x.copy_(mixedF.MulInPlace(beta).AddInPlace(alpha.bmm(xHistory).squeeze(1), alpha: 1 - beta));
        }
    }

    /// <summary>
    /// Per sample, α of the bordered system [[0, 1ᵀ], [1, G Gᵀ + λ s I]] [μ; α] = [1; 0] by Gaussian elimination with
    /// partial pivoting; a singular or non-finite system gives the plain step (α = 1 on the newest slot).
    /// </summary>
    private static double[] MixingWeights(double[] values, int batch, int count, int slot, double lambda)
    {
        var n = count + 1;
        var weights = new double[batch * count];
        var a = new double[n * n];
        var b = new double[n];
        for (var sample = 0; sample < batch; sample++)
        {
            var offset = sample * count * count;
            var scale = 1e-300;
            for (var i = 0; i < count; i++)
                scale = Math.Max(scale, values[offset + i * count + i] * lambda);
            Array.Clear(a);
            Array.Clear(b);
            b[0] = 1;
            for (var i = 1; i < n; i++)
            {
                a[i] = 1;
                a[i * n] = 1;
                for (var j = 1; j < n; j++)
                    a[i * n + j] = values[offset + (i - 1) * count + (j - 1)] + (i == j ? scale : 0);
            }
            var solved = Solve(a, b, n);
            for (var i = 0; i < count; i++)
                weights[sample * count + i] = solved ? b[i + 1] : i == slot ? 1 : 0;
        }
        return weights;
    }

    /// <summary>Solves a x = b in place (x in <paramref name="b"/>); false when a pivot vanishes or the result is not finite.</summary>
    private static bool Solve(double[] a, double[] b, int n)
    {
        for (var column = 0; column < n; column++)
        {
            var pivot = column;
            for (var row = column + 1; row < n; row++)
                if (Math.Abs(a[row * n + column]) > Math.Abs(a[pivot * n + column]))
                    pivot = row;
            if (!(Math.Abs(a[pivot * n + column]) > 1e-300))
                return false;
            if (pivot != column)
            {
                for (var j = 0; j < n; j++)
                    (a[column * n + j], a[pivot * n + j]) = (a[pivot * n + j], a[column * n + j]);
                (b[column], b[pivot]) = (b[pivot], b[column]);
            }
            for (var row = column + 1; row < n; row++)
            {
                var factor = a[row * n + column] / a[column * n + column];
                if (factor == 0)
                    continue;
                for (var j = column; j < n; j++)
                    a[row * n + j] -= factor * a[column * n + j];
                b[row] -= factor * b[column];
            }
        }
        for (var row = n - 1; row >= 0; row--)
        {
            var sum = b[row];
            for (var j = row + 1; j < n; j++)
                sum -= a[row * n + j] * b[j];
            b[row] = sum / a[row * n + row];
            if (!double.IsFinite(b[row]))
                return false;
        }
        return true;
    }
}
