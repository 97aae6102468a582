namespace Invertible.Torch.Layers;

/// <summary>Architecture of an invertible residual block y = x + g(x): its branch (<see cref="ResidualBranchOptions"/>).
/// Every property has a documented default.</summary>
public sealed class ResidualBlockOptions : ResidualBranchOptions
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate() => ValidateBranch();
}
