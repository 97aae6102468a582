namespace Invertible.Torch.Lipschitz;

/// <summary>A map with a certified upper bound on its Lipschitz constant (in the Euclidean norm).</summary>
public interface ILipschitzBounded
{
    /// <summary>
    /// An upper bound on the Lipschitz constant of the map as it is now evaluated (exact singular values of the
    /// effective weights, times the activations' constants). Does not change any state.
    /// </summary>
    double LipschitzBound();
}
