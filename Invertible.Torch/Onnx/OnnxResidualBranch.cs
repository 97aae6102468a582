using Invertible.Torch.Layers;
using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// A contractive MLP g written into a graph: its effective weights (as evaluation mode computes them) become
/// initializers of the top-level graph, readable from loop bodies, and g(x) and the per-row Jacobian J_g(x) can be
/// emitted in any (sub)graph.
/// </summary>
internal sealed class OnnxResidualBranch
{
    private readonly List<(string WeightT, string Bias, Tensor Weight)> linears = [];
    private readonly LipschitzActivation activation;
    private readonly List<double> betas = [];

    public OnnxResidualBranch(OnnxGraphBuilder top, ContractiveMlp g, string stem)
    {
        activation = g.Activation;
        using var _ = no_grad();
        var index = 0;
        foreach (var layer in g.Layers)
        {
            switch (layer)
            {
                case SpectralNormLinear linear:
                    var weight = linear.EffectiveWeight().detach();
                    linears.Add((top.Initializer($"{stem}_w{index}_t", weight.t()), top.Initializer($"{stem}_b{index}", linear.Bias!), weight));
                    index++;
                    break;
                case LipSwish lipSwish:
                    betas.Add(lipSwish.Beta);
                    break;
                default:
                    betas.Add(1.0);
                    break;
            }
        }
    }

    /// <summary>Features of x and g(x).</summary>
    public int Features => (int)linears[0].Weight.shape[1];

    /// <summary>g(x).</summary>
    public string Emit(OnnxGraphBuilder g, string x)
    {
        var value = x;
        for (var i = 0; i < linears.Count; i++)
        {
            value = g.Add(g.MatMul(value, linears[i].WeightT), linears[i].Bias);
            if (i < linears.Count - 1)
                value = g.Activation(value, activation, betas[i]);
        }
        return value;
    }

    /// <summary>J_g(x) per row: W_k D_{k−1} ⋯ D_1 W_1, [batch, features, features].</summary>
    public string EmitJacobian(OnnxGraphBuilder g, string x)
    {
        var value = x;
        string? jacobian = null;
        for (var i = 0; i < linears.Count; i++)
        {
            var weight = g.Initializer("jacobian_w", linears[i].Weight);
            jacobian = jacobian is null ? weight : g.MatMul(weight, jacobian);
            if (i == linears.Count - 1)
                break;
            var z = g.Add(g.MatMul(value, linears[i].WeightT), linears[i].Bias);
            jacobian = g.Mul(g.Unsqueeze(g.ActivationDerivative(z, activation, betas[i]), 2), jacobian);
            value = g.Activation(z, activation, betas[i]);
        }
        return jacobian!;
    }
}
