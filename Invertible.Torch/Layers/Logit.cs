using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// The logit transform of values in [0, 1] (Real NVP): y = logit(α + (1 − 2α) x), so a flow models unbounded values, and
/// log|det| = Σ [log(1 − 2α) − log s − log(1 − s)] with s = α + (1 − 2α) x — large where pixels sit at 0 or 1, which is
/// where a bounded pixel's density is high. α keeps 0 and 1 finite.
/// </summary>
public sealed class Logit : nn.Module<Tensor, (Tensor Output, Tensor LogDet)>, IClosedFormLayer
{
    /// <summary>Creates the layer on rows of <paramref name="features"/> values in [0, 1].</summary>
    /// <param name="features">Values per row.</param>
    /// <param name="alpha">α in (0, 0.5): the margin kept from 0 and 1.</param>
    public Logit(int features, double alpha) : base(nameof(Logit))
    {
        OptionCheck.AtLeast(features, 1);
        OptionCheck.Within(alpha, 0, false, 0.5, false);
        (Features, Alpha) = (features, alpha);
        RegisterComponents();
    }

    /// <inheritdoc />
    public int Features { get; }

    /// <summary>α: the margin kept from 0 and 1.</summary>
    public double Alpha { get; }

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input) => forward(input);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A value lies outside [0, 1] (named by row and column).</exception>
    public override (Tensor Output, Tensor LogDet) forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        using (no_grad())
        {
            var outside = input.Lt(0).logical_or(input.Gt(1)).logical_or(input.isnan());
            if (outside.any().item<bool>())
            {
                var at = outside.nonzero()[0];
                var (row, column) = (at[0].item<long>(), at[1].item<long>());
                throw new ArgumentException($"The logit transform needs values in [0, 1] (pixels scaled by 1/255); row {row}, column {column} holds {input[row, column].ReadDouble()}.", nameof(input));
            }
        }
        return ClosedFormLayer.Evaluate(this, input);
    }

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        RowInput.Check(output, Features, nameof(output));
        return new InverseResult(ClosedFormLayer.Invert(this, output), []);
    }

    private T Squeezed<T>(ITensorAlgebra<T> ops, T x) => ops.Add(ops.Scale(x, 1 - 2 * Alpha), ops.Constant(Alpha));

    T IClosedFormLayer.Forward<T>(ITensorAlgebra<T> ops, T input) => ((IClosedFormLayer)this).ForwardWithRowLogDet(ops, input, logDet: false).Output;

    /// <summary>y = log s − log(1 − s); the row part of log|det| is −Σ [log s + log(1 − s)].</summary>
    (T Output, T? RowLogDet) IClosedFormLayer.ForwardWithRowLogDet<T>(ITensorAlgebra<T> ops, T input, bool logDet) where T : class
    {
        var s = Squeezed(ops, input);
        var (logS, logComplement) = (ops.Log(s), ops.Log(ops.Sub(ops.Constant(1), s)));
        return (ops.Sub(logS, logComplement), logDet ? ops.Scale(ops.RowSum(ops.Add(logS, logComplement)), -1) : null);
    }

    /// <summary>x = (σ(y) − α) / (1 − 2α).</summary>
    T IClosedFormLayer.Inverse<T>(ITensorAlgebra<T> ops, T output)
        => ops.Scale(ops.Sub(ops.Sigmoid(output), ops.Constant(Alpha)), 1 / (1 - 2 * Alpha));

    /// <summary>d · log(1 − 2α).</summary>
    Tensor IClosedFormLayer.ConstantLogDet() => tensor(Features * Math.Log(1 - 2 * Alpha));
}
