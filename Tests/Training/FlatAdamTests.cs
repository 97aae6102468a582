using Invertible.Tests.Support;
using Invertible.Torch.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Invertible.Tests.Training;

[TestClass]
public sealed class FlatAdamTests
{
    /// <summary>A model with matrices, vectors and a 0-dimensional parameter, in float64.</summary>
    private sealed class Model : nn.Module<Tensor, Tensor>
    {
        private readonly Linear first = nn.Linear(3, 5, dtype: ScalarType.Float64), second = nn.Linear(5, 2, dtype: ScalarType.Float64);
        private readonly Parameter scale = new(tensor(1.5, dtype: ScalarType.Float64));

        public Model() : base(nameof(Model)) => RegisterComponents();

        public override Tensor forward(Tensor x) => second.call(tanh(first.call(x).mul(scale)));
    }

    private static Model Seeded()
    {
        manual_seed(41);
        return new Model();
    }

    /// <summary>
    /// Ten steps with weight decay and gradient clipping take the same parameters as TorchSharp's Adam with
    /// clip_grad_norm_, and the parameters follow the flat buffer (the model's own tensors are updated).
    /// </summary>
    [TestMethod]
    [DataRow(0.0, null)]
    [DataRow(1e-2, 0.5)]
    public void Steps_MatchTorchSharpsAdam(double weightDecay, double? clip)
    {
        var (flat, reference) = (Seeded(), Seeded());
        using var ours = new FlatAdam(flat.parameters(), 0.05, weightDecay);
        var adam = optim.Adam(reference.parameters(), 0.05, weight_decay: weightDecay);
        manual_seed(42);
        for (var step = 0; step < 10; step++)
        {
            using var scope = NewDisposeScope();
            var x = randn(16, 3, dtype: ScalarType.Float64);
            var y = randn(16, 2, dtype: ScalarType.Float64);
            ours.LearningRate = 0.05 / (1 + step);
            foreach (var group in adam.ParamGroups)
                group.LearningRate = 0.05 / (1 + step);
            ours.ZeroGrad();
            flat.call(x).sub(y).square().mean().backward();
            if (clip is { } c)
                ours.ClipGradNorm(c);
            ours.Step();
            adam.zero_grad();
            reference.call(x).sub(y).square().mean().backward();
            if (clip is { } c2)
                nn.utils.clip_grad_norm_(reference.parameters(), c2);
            adam.step();
        }
        foreach (var (a, b) in flat.parameters().Zip(reference.parameters()))
            Check.TensorsClose(a, b, 1e-12, "parameter after ten steps");
        Check.Less(1e-2, flat.parameters().Zip(Seeded().parameters()).Max(pair => pair.First.sub(pair.Second).abs().max().ToDouble()), "the parameters moved");
    }

    /// <summary>
    /// Gradients autograd does not accumulate into the buffer — a backward with create_graph replaces every gradient, a
    /// gradient set to null before the backward is allocated afresh — are collected: the steps equal TorchSharp's Adam.
    /// </summary>
    [TestMethod]
    public void GradientsNotAccumulatedInPlace_AreCollected()
    {
        var (flat, reference) = (Seeded(), Seeded());
        var parameters = flat.parameters().ToArray();
        using var ours = new FlatAdam(parameters, 0.05);
        var adam = optim.Adam(reference.parameters(), 0.05);
        manual_seed(43);
        for (var step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            var x = randn(16, 3, dtype: ScalarType.Float64);
            ours.ZeroGrad();
            if (step == 1)
                parameters[1].grad = null;
            flat.call(x).square().mean().backward(create_graph: step == 2);
            ours.Step();
            adam.zero_grad();
            reference.call(x).square().mean().backward();
            adam.step();
            foreach (var (a, b) in parameters.Zip(reference.parameters()))
                Check.TensorsClose(a, b, 1e-12, $"parameter after step {step}");
        }
    }

    [TestMethod]
    public void BadArguments_AreRejectedByName()
    {
        var model = Seeded();
        Assert.AreEqual("learningRate", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FlatAdam(model.parameters(), 0)).ParamName);
        Assert.AreEqual("learningRate", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FlatAdam(model.parameters(), double.NaN)).ParamName);
        Assert.AreEqual("weightDecay", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FlatAdam(model.parameters(), 1e-3, -1)).ParamName);
        Assert.AreEqual("parameters", Assert.ThrowsExactly<ArgumentNullException>(() => new FlatAdam(null!, 1e-3)).ParamName);
    }
}
