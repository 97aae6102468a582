using Invertible.Torch.Solvers;
using static TorchSharp.torch;

namespace Invertible.Torch.Implicit;

/// <summary>The result of an inverse: x = F⁻¹(y) and the statistics of every implicit solve, in the order they ran.</summary>
/// <param name="Input">x = F⁻¹(y).</param>
/// <param name="Solves">One entry per implicit solve (empty for layers with a closed-form inverse).</param>
public sealed record InverseResult(Tensor Input, IReadOnlyList<ImplicitSolveStatistics> Solves)
{
    /// <summary>Per row, the fixed-point iterations summed over the solves.</summary>
    public int[] RowIterations()
    {
        var rows = new int[Input.shape[0]];
        foreach (var solve in Solves)
            for (var i = 0; i < rows.Length; i++)
                rows[i] += solve.Forward.SampleIterations[i];
        return rows;
    }

    /// <summary>Per row, whether every solve met its tolerance for that row.</summary>
    public bool[] RowConverged()
    {
        var rows = Enumerable.Repeat(true, (int)Input.shape[0]).ToArray();
        foreach (var solve in Solves)
            for (var i = 0; i < rows.Length; i++)
                rows[i] &= solve.Forward.SampleConverged[i];
        return rows;
    }

    /// <summary>Per row, the largest final residual over the solves (<see cref="SolverStatistics.RelativeResidual"/>; 0 without solves).</summary>
    public double[] RowResiduals()
    {
        var rows = new double[Input.shape[0]];
        foreach (var solve in Solves)
            for (var i = 0; i < rows.Length; i++)
                rows[i] = Math.Max(rows[i], solve.Forward.SampleResiduals[i]);
        return rows;
    }
}
