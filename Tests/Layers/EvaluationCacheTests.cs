using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Training;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using Invertible.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Tests.Layers;

/// <summary>
/// In evaluation mode without gradients a block reuses its effective weights and a folded form of its MLP, rebuilt
/// when a parameter or power-iteration vector is written in place. These tests compare that path with the
/// differentiable one (gradients on, nothing cached) on the same module.
/// </summary>
[TestClass]
public sealed class EvaluationCacheTests
{
    private static Tensor Uncached(ResidualBlock block, Tensor x)
    {
        using var _ = enable_grad();
        return block.forward(x).detach();
    }

    private static Tensor Cached(ResidualBlock block, Tensor x)
    {
        using var _ = no_grad();
        return block.forward(x);
    }

    [TestMethod]
    public void TensorVersions_AreReadable_AndBumpedByInPlaceWritesAndByBump()
    {
        Assert.IsTrue(TensorVersion.Available, "libtorch's version counter could not be resolved: evaluation caching is off");
        var t = randn(3);
        var before = TensorVersion.Of(t);
        using (no_grad())
            t.add_(1);
        var written = TensorVersion.Of(t);
        Assert.AreNotEqual(before, written);
        TensorVersion.Bump(t);
        Assert.AreNotEqual(written, TensorVersion.Of(t), "Bump did not change the version");
    }

    /// <summary>Depth 3, every activation, LipSwish with two different β ≠ 1, weights not at their initialisation:
    /// a fold that drops or misplaces a scale changes the output far beyond float32 rounding.</summary>
    [TestMethod]
    [DataRow(LipschitzActivation.LipSwish)]
    [DataRow(LipschitzActivation.Tanh)]
    [DataRow(LipschitzActivation.Elu)]
    public void FoldedEvaluation_MatchesTheDifferentiablePath(LipschitzActivation activation)
    {
        manual_seed(31);
        var block = new ResidualBlock(6, new ResidualBlockOptions { HiddenFeatures = 24, Depth = 3, Coefficient = 0.9, Activation = activation });
        using (no_grad())
        {
            foreach (var p in block.parameters())
                p.add_(randn_like(p).mul(0.3));
            var rhos = block.Residual.Layers.OfType<LipSwish>().ToArray();
            for (var i = 0; i < rhos.Length; i++)
                rhos[i].Rho.fill_(i == 0 ? 2.0 : -0.7);
        }
        block.eval();
        var x = randn(32, 6).mul(3);
        var expected = Uncached(block, x);
        Check.TensorsClose(Cached(block, x), expected, 2e-6, "cached vs differentiable forward");
        Check.TensorsClose(Cached(block, x), expected, 2e-6, "second cached call");
    }

    /// <summary>Every kind of in-place change the cache must see: an optimiser step taken in evaluation mode, a
    /// state-dict load, a hand-written bias, a new β and refreshed power-iteration vectors.</summary>
    [TestMethod]
    public void CachedEvaluation_SeesEveryInPlaceChange()
    {
        manual_seed(32);
        var block = Blocks.Random(6, 24, 0.9, ScalarType.Float32);
        var x = randn(16, 6);
        var linears = block.Residual.LinearLayers.ToArray();
        var lipSwish = block.Residual.Layers.OfType<LipSwish>().Single();
        var changes = new (string What, Action Change)[]
        {
            ("optimiser step", () =>
            {
                var optimizer = optim.SGD(block.parameters(), 0.5);
                using var _ = enable_grad();
                block.forward(x).square().sum().backward();
                optimizer.step();
            }),
            ("load_state_dict", () => block.load_state_dict(Blocks.Random(6, 24, 0.9, ScalarType.Float32).state_dict())),
            ("bias written by hand", () => { using var _ = no_grad(); linears[1].Bias!.add_(0.25); }),
            ("β", () => { using var _ = no_grad(); lipSwish.Rho.fill_(1.5); }),
            ("weight perturbed, vectors refreshed", () =>
            {
                using (no_grad())
                    linears[0].Weight.add_(randn_like(linears[0].Weight).mul(0.5));
                linears[0].RefreshSingularVectors();
            }),
            // σ̂ = uᵀWv turns negative, so the normalisation switches off: the weight itself is unchanged.
            ("power-iteration vector u", () =>
            {
                using var _ = no_grad();
                var u = linears[0].named_buffers().Single(b => b.name == "u").buffer;
                u.neg_();
            }),
        };
        foreach (var (what, change) in changes)
        {
            var before = Cached(block, x);
            change();
            var after = Cached(block, x);
            Check.TensorsClose(after, Uncached(block, x), 2e-6, $"after {what}: cached vs differentiable forward");
            Assert.IsTrue(Check.MaxAbsDiff(after, before) > 1e-3, $"{what} did not change the output: the test would not see a stale cache");
        }
    }

    /// <summary>The trainers' <see cref="FlatAdam"/> writes every parameter through one flat buffer, which bumps only the
    /// buffer's version counter: each module that caches what it derives from its parameters in evaluation must still
    /// see the step (a stale cache once made validation score the weights of the epoch it was first filled in).</summary>
    [TestMethod]
    public void CachedEvaluation_SeesFlatAdamSteps()
    {
        manual_seed(34);
        var block = Blocks.Random(6, 24, 0.9, ScalarType.Float32);
        var rows = randn(16, 6);
        var modules = new (string What, nn.Module Module, Func<Tensor> Forward)[]
        {
            ("residual block", block, () => block.forward(rows)),
            Cell("monotone cell", new MonotoneCell(5, 4), 5, 4),
            Cell("convolutional monotone cell", new ConvolutionalMonotoneCell(new ImageShape(2, 5, 5), 3), 75, 50),
            Cell("member monotone cell", new MemberMonotoneCell(2, 5, 4), 5, 4, members: 2),
            Cell("member contractive cell", new MemberContractiveCell(2, 5, 4), 5, 4, members: 2),
        };
        foreach (var (what, module, forward) in modules)
        {
            module.eval();
            Tensor Evaluate(bool cached)
            {
                using var _ = cached ? no_grad() : enable_grad();
                return forward().detach();
            }
            // The optimiser first (it moves the parameters into its buffer, an in-place write), then the cache.
            using var optimizer = new FlatAdam(module.parameters(), 0.05);
            var before = Evaluate(cached: true);
            optimizer.ZeroGrad();
            using (enable_grad())
                forward().square().sum().backward();
            optimizer.Step();
            var after = Evaluate(cached: true);
            Check.TensorsClose(after, Evaluate(cached: false), 2e-6, $"{what} after a FlatAdam step: cached vs differentiable forward");
            Assert.IsTrue(Check.MaxAbsDiff(after, before) > 1e-3, $"the step did not change the {what}'s output: the test would not see a stale cache");
        }
    }

    private static (string, nn.Module, Func<Tensor>) Cell<TCell>(string what, TCell cell, int stateFeatures, int inputFeatures, int members = 1)
        where TCell : nn.Module<Tensor, Tensor, Tensor>
    {
        var (state, input) = (randn(8 * members, stateFeatures), randn(8 * members, inputFeatures));
        return (what, cell, () => cell.forward(state, input));
    }

    [TestMethod]
    public void CachedTensors_OutliveTheCallersDisposeScope()
    {
        manual_seed(33);
        var block = Blocks.Random(6, 24, 0.9, ScalarType.Float32);
        var x = randn(4, 6);
        Tensor first;
        using (var scope = NewDisposeScope())
            first = Cached(block, x).MoveToOuterDisposeScope();
        using (NewDisposeScope())
            Check.Identical(Cached(block, x), first, "second call after the first call's scope was disposed");
    }
}
