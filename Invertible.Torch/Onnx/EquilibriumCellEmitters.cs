using Invertible.Torch.Equilibrium;
using Invertible.Torch.Lipschitz;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Writes an equilibrium cell f(z, u) into a graph as two parts: the injection, constant during the solve and so
/// emitted once outside the loop, and the map z ↦ f(z, u) emitted into the loop body.
/// </summary>
internal interface IEquilibriumCellEmitter
{
    /// <summary>The injected term U u + b, [batch, state].</summary>
    string EmitInjection(OnnxGraphBuilder g, string u);

    /// <summary>f(z, u) given the injected term.</summary>
    string EmitMap(OnnxGraphBuilder body, string z, string injection);
}

/// <summary>The emitter of each cell kind.</summary>
internal static class EquilibriumCellEmitters
{
    public static IEquilibriumCellEmitter For(IEquilibriumFunction function, OnnxGraphBuilder top) => function switch
    {
        EquilibriumCell cell => new ContractiveCellEmitter(cell, top),
        MonotoneCell monotone => new MonotoneCellEmitter(monotone, top),
        _ => throw new NotSupportedException($"The equilibrium function is a {function.GetType().Name}; only EquilibriumCell and MonotoneCell can be exported."),
    };

    /// <summary><see cref="EquilibriumCell"/>: f(z, u) = φ(W z + U u + b).</summary>
    private sealed class ContractiveCellEmitter(EquilibriumCell cell, OnnxGraphBuilder top) : IEquilibriumCellEmitter
    {
        private readonly string recurrentT = top.Initializer("recurrent_weight_t", cell.Recurrent.EffectiveWeight().detach().t());
        private readonly double? beta = cell.ActivationFunction.Beta(cell.ActivationFunction.EffectiveParameters().ToArray())?.ToDouble();

        public string EmitInjection(OnnxGraphBuilder g, string u) => g.Linear(u, cell.Injection.weight!, cell.Injection.bias, "injection");

        public string EmitMap(OnnxGraphBuilder body, string z, string injection)
            => cell.ActivationFunction.Math.Value(new OnnxAlgebra(body), body.Add(body.MatMul(z, recurrentT), injection),
                beta is { } b ? body.Scalar((float)b, "beta") : null);
    }

    /// <summary><see cref="MonotoneCell"/>: the splitting map f(z, u) = ReLU((1 − α) z + α (W z + U u + b)).</summary>
    private sealed class MonotoneCellEmitter(MonotoneCell cell, OnnxGraphBuilder top) : IEquilibriumCellEmitter
    {
        private readonly string weightT = top.Initializer("monotone_weight_t", cell.Weight().detach().t());

        public string EmitInjection(OnnxGraphBuilder g, string u) => g.Linear(u, cell.Injection.weight!, cell.Injection.bias, "injection");

        public string EmitMap(OnnxGraphBuilder body, string z, string injection)
            => body.Node("Relu", [body.Add(body.Mul(z, body.Scalar((float)(1 - cell.Step), "keep")),
                body.Mul(body.Add(body.MatMul(z, weightT), injection), body.Scalar((float)cell.Step, "step")))]);
    }
}
