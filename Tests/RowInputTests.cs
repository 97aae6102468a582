using System.Globalization;
using Invertible.Tests.Support;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Flows;
using Invertible.Torch.Layers;
using static TorchSharp.torch;

namespace Invertible.Tests;

/// <summary>Every public entry point rejects a non-finite value by the caller's argument name, its row and its column.</summary>
[TestClass]
public sealed class RowInputTests
{
    private const int Features = 4;

    /// <summary>Clean rows with <paramref name="value"/> at (<paramref name="row"/>, <paramref name="column"/>).</summary>
    private static Tensor RowsWith(double value, int row, int column)
    {
        var rows = randn(5, Features);
        rows[row, column] = value;
        return rows;
    }

    private static void AssertRejected(Action call, string argument, double value, int row, int column, string what)
    {
        var failure = Assert.ThrowsExactly<ArgumentException>(call, what);
        Assert.AreEqual(argument, failure.ParamName, $"{what}: the argument");
        StringAssert.Contains(failure.Message, string.Create(CultureInfo.InvariantCulture, $"{argument} holds {value} at row {row}, column {column}"), what);
    }

    [TestMethod]
    [DataRow(double.NaN, 3, 2)]
    [DataRow(double.PositiveInfinity, 0, 3)]
    [DataRow(double.NegativeInfinity, 4, 0)]
    public void EveryEntryPoint_NamesTheArgumentRowAndColumn_OfANonFiniteValue(double value, int row, int column)
    {
        manual_seed(171);
        var flow = new InvertibleResNetFlow(Features, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 8, InvertibleLinear = true });
        flow.eval();
        var stack = ResidualStack.Create(Features, 2, new ResidualBlockOptions { HiddenFeatures = 8 });
        var block = Blocks.Random(Features, 8, 0.9, ScalarType.Float32);
        var equilibrium = new EquilibriumLayer(new EquilibriumCell(Features, Features));
        var bad = RowsWith(value, row, column);
        var cases = new (string What, Action Call, string Argument)[]
        {
            ("flow forward", () => flow.forward(bad), "input"),
            ("flow LogProb", () => flow.LogProb(bad), "input"),
            ("flow Inverse", () => flow.Inverse(bad), "latent"),
            ("stack forward", () => stack.forward(bad), "input"),
            ("stack Inverse", () => stack.Inverse(bad), "output"),
            ("block forward", () => block.forward(bad), "input"),
            ("block Inverse", () => block.Inverse(bad), "output"),
            ("equilibrium input", () => equilibrium.Solve(bad), "input"),
            ("equilibrium initial state", () => equilibrium.Solve(randn(5, Features), bad), "initialState"),
        };
        foreach (var (what, call, argument) in cases)
            AssertRejected(call, argument, value, row, column, what);
    }

    [TestMethod]
    public void ActNorm_DataDependentInitialisation_DoesNotAbsorbANonFiniteBatch()
    {
        manual_seed(172);
        var layer = new ActNorm(Features);
        AssertRejected(() => layer.forward(RowsWith(double.NaN, 2, 1)), "input", double.NaN, 2, 1, "ActNorm forward");
        Assert.IsFalse(layer.IsInitialized, "a rejected batch leaves the layer uninitialised");
        Check.Identical(layer.Bias, zeros(Features), "bias untouched");
        Check.Identical(layer.LogScale, zeros(Features), "log-scale untouched");

        // Through a flow in training mode: the flow rejects the batch before any ActNorm sees it.
        var flow = new InvertibleResNetFlow(Features, new InvertibleResNetFlowOptions { Blocks = 2, HiddenFeatures = 8 });
        AssertRejected(() => flow.forward(RowsWith(double.PositiveInfinity, 4, 3)), "input", double.PositiveInfinity, 4, 3, "flow forward in training");
        Assert.IsTrue(flow.Layers.OfType<ActNorm>().All(a => !a.IsInitialized), "no ActNorm of the flow initialised from the rejected batch");

        // The next clean batch initialises as usual.
        var clean = randn(64, Features).mul(3).add(2);
        var (output, _) = layer.forward(clean);
        Assert.IsTrue(layer.IsInitialized);
        Check.AtMost(output.mean([0]).abs().max().ToDouble(), 1e-5, "per-feature mean after initialisation from the clean batch");
    }
}
