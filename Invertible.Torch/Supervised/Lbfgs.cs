using Invertible.Torch.Core;
namespace Invertible.Torch.Supervised;

/// <summary>
/// Limited-memory BFGS on a smooth function of a small parameter vector (host arrays), with a backtracking Armijo line
/// search: the solver behind the linear models, whose losses are convex and cheap to evaluate.
/// </summary>
internal static class Lbfgs
{
    private const int Memory = 10;

    /// <summary>
    /// Minimises <paramref name="f"/> (loss and gradient) from <paramref name="start"/>; stops when the gradient's largest
    /// entry falls below <paramref name="gradientTolerance"/>, the loss stops changing, or after <paramref name="maxIterations"/>.
    /// </summary>
    public static double[] Minimize(Func<double[], (double Loss, double[] Gradient)> f, double[] start, int maxIterations = 500, double gradientTolerance = 1e-7)
    {
        var n = start.Length;
        var x = (double[])start.Clone();
        var (loss, gradient) = f(x);
        var steps = new List<double[]>();
        var changes = new List<double[]>();
        var curvatures = new List<double>();
        for (var iteration = 0; iteration < maxIterations && MaxAbs(gradient) > gradientTolerance; iteration++)
        {
            var direction = Direction(gradient, steps, changes, curvatures);
            var slope = Dot(gradient, direction);
            if (!(slope < 0))
            {
                steps.Clear();
                changes.Clear();
                curvatures.Clear();
                direction = gradient.Select(g => -g).ToArray();
                slope = -Dot(gradient, gradient);
            }
            // The first step has no curvature to scale it: keep it short.
            var length = steps.Count == 0 ? Math.Min(1, 1 / Math.Max(Math.Sqrt(-slope), 1e-12)) : 1;
            double[] next;
            double nextLoss;
            double[] nextGradient;
            var halvings = 0;
            while (true)
            {
                next = new double[n];
                for (var i = 0; i < n; i++)
                    next[i] = x[i] + length * direction[i];
                (nextLoss, nextGradient) = f(next);
                if (nextLoss <= loss + 1e-4 * length * slope || ++halvings > 40)
                    break;
                length *= 0.5;
            }
            if (halvings > 40)
                break;
            var step = new double[n];
            var change = new double[n];
            for (var i = 0; i < n; i++)
            {
                step[i] = next[i] - x[i];
                change[i] = nextGradient[i] - gradient[i];
            }
            var curvature = Dot(step, change);
            if (curvature > 1e-12 * Math.Sqrt(Dot(step, step) * Dot(change, change)))
            {
                if (steps.Count == Memory)
                {
                    steps.RemoveAt(0);
                    changes.RemoveAt(0);
                    curvatures.RemoveAt(0);
                }
                steps.Add(step);
                changes.Add(change);
                curvatures.Add(curvature);
            }
            var stalled = loss - nextLoss <= 1e-13 * Math.Max(1, Math.Abs(loss));
            (x, loss, gradient) = (next, nextLoss, nextGradient);
            if (stalled)
                break;
        }
        return x;
    }

    /// <summary>−H g by the two-loop recursion, H₀ scaled by the latest pair's sᵀy / yᵀy.</summary>
    private static double[] Direction(double[] gradient, List<double[]> steps, List<double[]> changes, List<double> curvatures)
    {
        var q = gradient.Select(g => -g).ToArray();
        var alphas = new double[steps.Count];
        for (var j = steps.Count - 1; j >= 0; j--)
        {
            alphas[j] = Dot(steps[j], q) / curvatures[j];
            Axpy(-alphas[j], changes[j], q);
        }
        if (steps.Count > 0)
        {
            var scale = curvatures[^1] / Dot(changes[^1], changes[^1]);
            for (var i = 0; i < q.Length; i++)
                q[i] *= scale;
        }
        for (var j = 0; j < steps.Count; j++)
        {
            var beta = Dot(changes[j], q) / curvatures[j];
            Axpy(alphas[j] - beta, steps[j], q);
        }
        return q;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (var i = 0; i < x.Length; i++)
            y[i] += a * x[i];
    }

    private static double MaxAbs(double[] values) => values.Length == 0 ? 0 : values.Max(Math.Abs);
}
