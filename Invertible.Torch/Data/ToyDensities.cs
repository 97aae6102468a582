using Invertible.Torch.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Data;

/// <summary>
/// The standard 2-D toy densities of the flow literature, generated as in the Residual Flows code base, with their
/// exact log-densities where they have one.
/// </summary>
public static class ToyDensities
{
    private static readonly double Sqrt2 = Math.Sqrt(2);
    private const double Radius = 4, Spread = 0.5;

    /// <summary>
    /// 8-gaussians: centres at radius 4 in 8 directions (every 45°), isotropic noise σ = 0.5, then everything divided
    /// by √2. Entropy ≈ 2.831 nats.
    /// </summary>
    public static Tensor EightGaussians(int count, Generator? generator = null, ScalarType dtype = ScalarType.Float32)
    {
        var centres = EightCentres();
        var which = randint(0, 8, [count], generator: generator);
        var points = randn([count, 2], dtype: ScalarType.Float64, generator: generator).Mul(Spread).Add(centres.index_select(0, which));
        return points.Div(Sqrt2).to(dtype);
    }

    /// <summary>Exact log-density of the 8-gaussians mixture at <paramref name="points"/> ([n, 2]), per row.</summary>
    public static Tensor EightGaussiansLogProb(Tensor points)
    {
        using var _ = no_grad();
        var x = points.to(ScalarType.Float64).unsqueeze(1);
        var means = EightCentres().Div(Sqrt2).unsqueeze(0);
        var sigma = Spread / Sqrt2;
        var componentLogProb = x.sub(means).Square().sum(dim: 2).Div(-2 * sigma * sigma).Sub(2 * Math.Log(sigma) + Math.Log(2 * Math.PI));
        return componentLogProb.logsumexp(1).Sub(Math.Log(8));
    }

    /// <summary>
    /// Checkerboard on [−4, 4]²: 8 squares of side 2 in a checker pattern, uniform on them. Entropy ln 32 ≈ 3.466 nats.
    /// </summary>
    public static Tensor Checkerboard(int count, Generator? generator = null, ScalarType dtype = ScalarType.Float32)
    {
        var x1 = rand([count], dtype: ScalarType.Float64, generator: generator).Mul(4).Sub(2);
        var x2 = rand([count], dtype: ScalarType.Float64, generator: generator)
            .sub(randint(0, 2, [count], generator: generator).to(ScalarType.Float64).Mul(2));
        // floor(x1) mod 2 (non-negative) shifts alternate columns up by one.
        x2 = x2.Add(x1.floor().Remainder(2).Add(2).Remainder(2));
        return stack([x1, x2], 1).Mul(2).to(dtype);
    }

    /// <summary>Exact log-density of the checkerboard: −ln 32 on its squares, −∞ elsewhere.</summary>
    public static Tensor CheckerboardLogProb(Tensor points)
    {
        using var _ = no_grad();
        var p = points.to(ScalarType.Float64).Div(2);
        var column = p[.., 0].floor();
        var row = p[.., 1].floor();
        var inside = p[.., 0].Ge(-2).logical_and(p[.., 0].Lt(2)).logical_and(p[.., 1].Ge(-2)).logical_and(p[.., 1].Lt(2));
        var onBoard = column.Add(row).Remainder(2).Add(2).Remainder(2).Eq(1).logical_not();
        return where(inside.logical_and(onBoard), HeldScalars.FullLike(column, -Math.Log(32)), HeldScalars.FullLike(column, double.NegativeInfinity));
    }

    /// <summary>Two interleaved half-moons (scikit-learn's make_moons with noise 0.1, each row's moon drawn at random), scaled by 2 and centred.</summary>
    public static Tensor TwoMoons(int count, Generator? generator = null, ScalarType dtype = ScalarType.Float32, double noise = 0.1)
    {
        var angles = rand([count], dtype: ScalarType.Float64, generator: generator).Mul(Math.PI);
        var isOuter = randint(0, 2, [count], generator: generator).Eq(1);
        var x = where(isOuter, angles.cos(), angles.cos().neg().Add(1));
        var y = where(isOuter, angles.sin(), angles.sin().neg().Add(0.5));
        var points = stack([x, y], 1).Add(randn([count, 2], dtype: ScalarType.Float64, generator: generator).Mul(noise));
        return points.Mul(2).Add(tensor(new[] { -1.0, -0.2 }, dtype: ScalarType.Float64)).to(dtype);
    }

    private static Tensor EightCentres()
    {
        var angles = HeldScalars.Arange(8, dtype: ScalarType.Float64).Mul(Math.PI / 4);
        return stack([angles.cos(), angles.sin()], 1).Mul(Radius);
    }
}
