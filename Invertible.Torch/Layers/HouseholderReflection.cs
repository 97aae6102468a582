using Invertible.Torch.Core;
using Invertible.Torch.Implicit;
using Invertible.Torch.Lipschitz;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Torch.Layers;

/// <summary>
/// A Householder reflection y = x − 2 v (vᵀx) / ‖v‖²: an orthogonal mixing of the features, so |det| = 1, and its own
/// inverse. A few in a row reach any rotation (Householder flows, Tomczak &amp; Welling 2016); between residual blocks
/// they mix features at the cost of one product per row.
/// </summary>
public sealed class HouseholderReflection : nn.Module<Tensor, (Tensor Output, Tensor LogDet)>, IClosedFormLayer
{
    private readonly Parameter direction;

    /// <summary>Creates a reflection about the hyperplane orthogonal to a random direction v ~ N(0, I).</summary>
    public HouseholderReflection(int features, Generator? generator = null, ScalarType dtype = ScalarType.Float32) : base(nameof(HouseholderReflection))
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "Must be at least 1.");
        Features = features;
        direction = new Parameter(randn(features, dtype: dtype, generator: generator));
        RegisterComponents();
    }

    /// <inheritdoc />
    public int Features { get; }

    /// <summary>v, [features]: the reflection's normal (its length does not matter).</summary>
    public Parameter Direction => direction;

    /// <inheritdoc />
    public (Tensor Output, Tensor LogDet) ForwardWithLogDet(Tensor input) => forward(input);

    /// <inheritdoc />
    public override (Tensor Output, Tensor LogDet) forward(Tensor input)
    {
        RowInput.Check(input, Features, nameof(input));
        return ClosedFormLayer.Evaluate(this, input);
    }

    /// <inheritdoc />
    public InverseResult InverseWithStatistics(Tensor output, ImplicitOptions? options = null)
    {
        RowInput.Check(output, Features, nameof(output));
        return new InverseResult(ClosedFormLayer.Invert(this, output), []);
    }

    /// <summary>y = x − 2 v (vᵀx) / ‖v‖².</summary>
    T IClosedFormLayer.Forward<T>(ITensorAlgebra<T> ops, T input)
    {
        var v = ops.Weight(direction, "direction");
        return ops.Sub(input, ops.Outer(ops.Scale(ops.Div(ops.RowDot(input, v), ops.SumAll(ops.Mul(v, v))), 2), v));
    }

    /// <summary>A reflection is an involution: the inverse is the same map.</summary>
    T IClosedFormLayer.Inverse<T>(ITensorAlgebra<T> ops, T output) => ((IClosedFormLayer)this).Forward(ops, output);

    /// <summary>An orthogonal map: log|det| = 0.</summary>
    Tensor IClosedFormLayer.ConstantLogDet() => zeros([], dtype: direction.dtype, device: direction.device);
}
