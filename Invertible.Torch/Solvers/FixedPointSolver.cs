using System.Diagnostics;
using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Solvers;

/// <summary>
/// Shared machinery of the solvers: argument checks, flattening each sample to a row, per-sample residuals,
/// tracking the lowest-residual iterate, the residual trace and the stopping rule.
/// </summary>
public abstract class FixedPointSolver : IFixedPointSolver
{
    /// <summary>Creates a solver with validated options.</summary>
    protected FixedPointSolver(FixedPointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <inheritdoc />
    public FixedPointOptions Options { get; }

    /// <summary>The solver named by <see cref="FixedPointOptions.Solver"/>.</summary>
    public static IFixedPointSolver Create(FixedPointOptions? options = null)
    {
        options ??= FixedPointOptions.Default;
        return options.Solver switch
        {
            FixedPointSolverKind.Picard => new PicardSolver(options),
            FixedPointSolverKind.Anderson => new AndersonSolver(options),
            FixedPointSolverKind.Broyden => new BroydenSolver(options),
            FixedPointSolverKind.Adaptive => new AdaptiveSolver(options),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Solver, "Unknown solver."),
        };
    }

    /// <inheritdoc />
    public FixedPointResult Solve(Func<Tensor, Tensor> f, Tensor initial)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(initial);
        if (initial.dim() < 1 || initial.shape[0] < 1)
            throw new ArgumentException($"The initial guess needs a non-empty batch dimension, got shape [{string.Join(", ", initial.shape)}].", nameof(initial));
        if (!initial.is_floating_point())
            throw new ArgumentException($"The initial guess must be floating point, got {initial.dtype}.", nameof(initial));
        RowInput.CheckFinite(initial, nameof(initial));

        var shape = initial.shape;
        var batch = shape[0];
        // Rows already [batch, n] go to f as they are: at batch 1 the view, reshape and shape reads cost as much as g.
        var flat = shape.Length == 2;
        var shapeChecked = false;
        Tensor Flat(Tensor rows)
        {
            var value = f(flat ? rows : rows.view(shape));
            if (!shapeChecked)
            {
                if (!value.shape.SequenceEqual(shape))
                    throw new InvalidOperationException($"The map returned shape [{string.Join(", ", value.shape)}] for an argument of shape [{string.Join(", ", shape)}].");
                shapeChecked = true;
            }
            return flat ? value : value.reshape(batch, -1);
        }

        var watch = Stopwatch.StartNew();
        var rows = flat ? initial : initial.reshape(batch, -1);
        using var tracker = new Tracker(rows, Options);
        Run(Flat, rows.clone(), tracker);
        var solution = tracker.Best.view(shape).clone();
        return new FixedPointResult(solution, tracker.Statistics(Options.Solver, watch.Elapsed));
    }

    /// <summary>
    /// Iterates until <see cref="Tracker.Record"/> says stop. <paramref name="x"/> is [batch, n] and owned by the
    /// solver; <paramref name="f"/> maps [batch, n] to [batch, n].
    /// </summary>
    protected abstract void Run(Func<Tensor, Tensor> f, Tensor x, Tracker tracker);

    /// <summary>Per-sample residuals, the best iterate of each sample, the trace and the stopping rule.</summary>
    /// <remarks>Residuals are compared on the host (a batch of doubles): fewer tensor operations per iteration than
    /// the map itself costs for small layers.</remarks>
    protected internal sealed class Tracker : IDisposable
    {
        private readonly FixedPointOptions options;
        private readonly List<double> trace = [];
        private readonly double[] bestResidual;
        private readonly bool[] bestConverged;
        private readonly bool[] improved;
        private readonly int[] convergedAt;
        private double[]? divergenceScale;
        private bool converged;
        private readonly ScalarType precision;

        /// <summary>
        /// A row whose ‖f(x)‖ grows past this multiple of its starting scale ‖x₀‖ + ‖f(x₀)‖ is treated as diverged: a
        /// map without a fixed point can drift to infinity while ‖f(x) − x‖ / ‖f(x)‖ shrinks, which must not pass
        /// for convergence.
        /// </summary>
        private const double DivergenceRatio = 1e6;

        internal Tracker(Tensor initialRows, FixedPointOptions options)
        {
            this.options = options;
            precision = initialRows.dtype;
            Best = initialRows.detach().clone();
            bestResidual = Enumerable.Repeat(double.PositiveInfinity, (int)initialRows.shape[0]).ToArray();
            improved = new bool[bestResidual.Length];
            bestConverged = new bool[bestResidual.Length];
            convergedAt = new int[bestResidual.Length];
        }

        /// <summary>
        /// Per sample, f(x) at the lowest-residual iterate x so far, [batch, n]: one more (free) Picard step, which for
        /// a contraction lies closer to the fixed point than x, with a residual at most Lip(f) times x's.
        /// </summary>
        public Tensor Best { get; }

        /// <summary>Evaluations of f recorded so far.</summary>
        public int Iterations => trace.Count;

        /// <summary>The largest residual (<see cref="ResidualMeasure"/>) of the last evaluation over the rows not yet converged (0 when all are).</summary>
        public double LastUnconvergedResidual { get; private set; }

        /// <summary>
        /// Over the rows not yet converged after the last evaluation, the largest factor by which the residual exceeds the
        /// stopping rule's bound (<see cref="ResidualMeasure.Gap"/>); 0 when all have converged, ∞ when the bound is 0.
        /// </summary>
        public double LastGap { get; private set; }

        /// <summary>
        /// Records the evaluation <paramref name="fx"/> = f(<paramref name="x"/>) and returns true when the solve
        /// must stop (every sample converged, the cap was reached, or every sample's value is non-finite).
        /// </summary>
        public bool Record(Tensor x, Tensor fx)
        {
            using var scope = NewDisposeScope();
            var rows = bestResidual.Length;
            if (OnHost(x, fx))
                return RecordOnHost(x, fx);
            var norms = stack([fx.sub(x).norm(1), fx.norm(1)]).to(ScalarType.Float64).cpu();
            var values = norms.data<double>();
            if (divergenceScale is null)
            {
                var start = x.norm(1).to(ScalarType.Float64).cpu().data<double>();
                divergenceScale = Enumerable.Range(0, rows).Select(i => DivergenceRatio * (start[i] + values[rows + i] + 1e-30)).ToArray();
            }
            var improvedCount = Update(i => values[i], i => values[rows + i]);
            if (improvedCount == rows)
                Best.copy_(fx);
            else if (improvedCount > 0)
                Best.copy_(where(tensor(improved, device: fx.device).unsqueeze(1), fx, Best));
            return Finish();
        }

        /// <summary>
        /// Batches of at most this many values on the CPU are measured in managed code straight from tensor memory: the
        /// norms and the best-iterate copy then cost no libtorch call (seven per iteration otherwise; at batch 1 they
        /// were most of a Picard step).
        /// </summary>
        internal static long HostElements = 8192;

        private static bool OnHost(Tensor x, Tensor fx)
            => x.numel() <= HostElements && x.device_type == TorchSharp.DeviceType.CPU && fx.device_type == TorchSharp.DeviceType.CPU
               && x.dtype == fx.dtype && x.dtype is ScalarType.Float32 or ScalarType.Float64 && x.is_contiguous() && fx.is_contiguous();

        // Differences rounded to the tensor's type (as the tensor path's fx − x is), sums in float64.
        private bool RecordOnHost(Tensor x, Tensor fx)
        {
            var (rows, width) = (bestResidual.Length, (int)(x.numel() / bestResidual.Length));
            var size = rows * width;
            if (hostX is null || hostX.Length != size)
                (hostX, hostF, hostNorms) = (new double[size], new double[size], new double[2 * rows]);
            var single = x.dtype == ScalarType.Float32;
            HostTensor.Read(x, hostX);
            HostTensor.Read(fx, hostF!);
            var norms = hostNorms!;
            for (var r = 0; r < rows; r++)
            {
                double difference = 0, image = 0;
                for (var c = r * width; c < (r + 1) * width; c++)
                {
                    var d = single ? (float)(hostF![c] - hostX[c]) : hostF![c] - hostX[c];
                    difference += d * d;
                    image += hostF[c] * hostF[c];
                }
                (norms[r], norms[rows + r]) = (Math.Sqrt(difference), Math.Sqrt(image));
            }
            if (divergenceScale is null)
            {
                divergenceScale = new double[rows];
                for (var r = 0; r < rows; r++)
                {
                    double start = 0;
                    for (var c = r * width; c < (r + 1) * width; c++)
                        start += hostX[c] * hostX[c];
                    divergenceScale[r] = DivergenceRatio * (Math.Sqrt(start) + norms[rows + r] + 1e-30);
                }
            }
            if (Update(i => norms[i], i => norms[rows + i]) > 0)
                CopyImprovedRows(fx, width, single);
            return Finish();
        }

        // Tensor memory viewed in place (contiguous CPU tensors only: see OnHost).
        private void CopyImprovedRows(Tensor fx, int width, bool single)
        {
            var source = fx.bytes;
            var target = Best.bytes;
            var rowBytes = width * (single ? sizeof(float) : sizeof(double));
            for (var r = 0; r < improved.Length; r++)
                if (improved[r])
                    source.Slice(r * rowBytes, rowBytes).CopyTo(target.Slice(r * rowBytes, rowBytes));
        }

        private double[]? hostX, hostF, hostNorms;

        // Updates each row's best residual from its absolute residual ‖f(x) − x‖ and scale ‖f(x)‖; returns how many improved.
        private int Update(Func<int, double> absoluteOf, Func<int, double> scaleOf)
        {
            var rows = bestResidual.Length;
            double worstNow = 0, worstOpen = 0, worstGap = 0;
            var anyFinite = false;
            var improvedCount = 0;
            var convergedRows = 0;
            for (var i = 0; i < rows; i++)
            {
                var (absolute, scale) = (absoluteOf(i), scaleOf(i));
                var r = ResidualMeasure.Of(absolute, scale, options);
                if (double.IsNaN(r) || scale > divergenceScale![i])
                    r = double.PositiveInfinity;
                improved[i] = r < bestResidual[i];
                if (improved[i])
                {
                    if (!bestConverged[i])
                        lastProgress = trace.Count + 1;
                    bestResidual[i] = r;
                    bestConverged[i] = ResidualMeasure.Meets(r, absolute, options);
                    if (bestConverged[i] && convergedAt[i] == 0)
                        convergedAt[i] = trace.Count + 1;
                    improvedCount++;
                }
                if (bestConverged[i])
                {
                    convergedRows++;
                }
                else
                {
                    worstOpen = Math.Max(worstOpen, r);
                    worstGap = Math.Max(worstGap, ResidualMeasure.Gap(r, absolute, options));
                }
                worstNow = Math.Max(worstNow, r);
                anyFinite |= double.IsFinite(r);
            }
            trace.Add(worstNow);
            LastUnconvergedResidual = worstOpen;
            LastGap = worstGap;
            converged = convergedRows == rows;
            allBroken = !anyFinite && trace.Count > 1;
            return improvedCount;
        }

        private bool allBroken;

        /// <summary>
        /// A solve stops as stalled when no unconverged sample has lowered its best residual in this many evaluations:
        /// at the rounding floor of the tensors' type the residual only fluctuates, and running on to the iteration cap
        /// cannot reach the tolerance (a contraction, however slow, lowers it every step until then).
        /// </summary>
        public const int StallWindow = 50;

        // The evaluation at which an unconverged sample last lowered its best residual.
        private int lastProgress;

        private bool Stalled => !converged && trace.Count - lastProgress >= StallWindow;

        private bool Finish() => converged || trace.Count >= options.MaxIterations || allBroken || Stalled;

        internal SolverStatistics Statistics(FixedPointSolverKind solver, TimeSpan elapsed)
            => new(solver, trace.Count, bestResidual.Max(), converged, trace.ToArray(), (double[])bestResidual.Clone(), elapsed,
                convergedAt.Select(at => at == 0 ? trace.Count : at).ToArray(), (bool[])bestConverged.Clone())
            {
                Stalled = Stalled && trace.Count < options.MaxIterations,
                Precision = precision.ToString().ToLowerInvariant(),
            };

        /// <inheritdoc />
        public void Dispose() => Best.Dispose();
    }
}
