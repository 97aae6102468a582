using System.Globalization;
using Invertible.Torch.Core;
using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using static TorchSharp.torch;

namespace Invertible.Torch.Checks;

/// <summary>
/// Certified Lipschitz bounds (exact singular values of the effective weights, times the activations' constants)
/// checked against a limit — of a whole module, or of every residual branch g of a model, whose bound below 1 is what
/// makes each block y = x + g(x) invertible.
/// </summary>
public static class LipschitzCheck
{
    /// <summary>Checks that <paramref name="module"/>'s certified bound is at most <paramref name="limit"/>; returns the bound.</summary>
    /// <exception cref="CheckFailedException">The bound exceeds the limit.</exception>
    public static double AtMost(ILipschitzBounded module, double limit)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var bound = module.LipschitzBound();
        if (!(bound <= limit))
            throw new CheckFailedException(string.Create(CultureInfo.InvariantCulture, $"{module.GetType().Name} has certified Lipschitz bound {bound:G6} > {limit:G6}."));
        return bound;
    }

    /// <summary>
    /// Checks that the residual branch g of every block in <paramref name="model"/> (itself included) has a certified
    /// bound below <paramref name="limit"/>; returns the largest.
    /// </summary>
    /// <exception cref="ArgumentException">The model holds no residual block.</exception>
    /// <exception cref="CheckFailedException">A branch's bound reaches the limit (the message names the block).</exception>
    public static double ResidualBranches(nn.Module model, double limit = 1.0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var blocks = new List<(string Name, ResidualBlockBase Block)>();
        if (model is ResidualBlockBase self)
            blocks.Add(("(the model)", self));
        blocks.AddRange(model.named_modules().Where(m => m.module is ResidualBlockBase).Select(m => (m.name, (ResidualBlockBase)m.module)));
        if (blocks.Count == 0)
            throw new ArgumentException($"{model.GetName()} holds no residual block.", nameof(model));
        var bounds = blocks.Select(b => (b.Name, Bound: b.Block.Residual.LipschitzBound())).ToList();
        var worst = bounds.MaxBy(b => b.Bound);
        if (!(worst.Bound < limit))
            throw new CheckFailedException(string.Create(CultureInfo.InvariantCulture,
                $"The residual branch of block '{worst.Name}' has certified Lipschitz bound {worst.Bound:G6}, not below {limit:G6} ({bounds.Count(b => b.Bound >= limit)} of {bounds.Count} blocks)."));
        return worst.Bound;
    }
}
