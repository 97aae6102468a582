using Invertible.Torch.Core;
using Invertible.Torch.Equilibrium;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Invertible.Torch.Onnx;

/// <summary>
/// Exports <see cref="EquilibriumMembers"/>: every member's injection as one product with the input, the members' states
/// as member-major rows of one fixed-point <c>Loop</c> (the rows TorchSharp's solver freezes one by one), each iteration
/// one batched product per member stack, and the members' mean scores as one product with their stacked heads.
/// </summary>
internal static class EquilibriumMembersExporter
{
    /// <summary>
    /// Graph: "x" [batch, features] → "scores" [batch, outputs] (the members' mean) and the task's outputs; per row
    /// "iterations" and "residual" (the largest over the members' solves) and "converged" (all of them).
    /// </summary>
    public static ModelProto Export(EquilibriumMembers model, OnnxExportOptions? options = null)
    {
        (options ??= new OnnxExportOptions()).Validate();
        ArgumentNullException.ThrowIfNull(model);
        using var mode = OnnxExportGuard.EvaluationMode(model);
        using var _ = no_grad();
        var loop = options.Loop(model.Layer.Options.Forward);
        var (k, h, d) = (model.Members, model.Cell.StateFeatures, model.InputFeatures);
        var g = new OnnxGraphBuilder("equilibrium_members", options.Opset);
        var x = g.Input("x", d);
        var memberRows = g.Int64("member_rows", k, -1, h);
        var rows = g.Int64("rows", -1, h);

        // x ↦ [K·B, h] member-major rows of the members' injections (one product for all members).
        string Injected(Tensor weight, Tensor bias)
        {
            var all = g.Add(g.MatMul(x, g.Initializer("injection_weight_t", weight.reshape(k * h, d).t())), g.Initializer("injection_bias", bias.reshape(k * h)));
            var perMember = g.Node("Transpose", [g.Node("Reshape", [all, g.Int64("row_members", -1, k, h)])], null, OnnxGraphBuilder.Attribute("perm", [1L, 0L, 2L]));
            return perMember;
        }

        string injected, reflection;
        Func<OnnxGraphBuilder, string, string> map;
        Func<string, string> output;
        switch (model.Cell)
        {
            case MemberContractiveCell cell:
            {
                var parameters = cell.EffectiveParameters().ToArray();
                injected = Injected(cell.InjectionWeight, cell.InjectionBias);
                reflection = g.Initializer("recurrent_weight_t", parameters[0].transpose(1, 2));
                var beta = cell.ActivationFunction.Beta(parameters[3..])?.ReadDouble();
                map = (body, s) => body.Node("Reshape", [body.Activation(
                    body.Add(body.MatMul(body.Node("Reshape", [s, memberRows]), reflection), injected), cell.Activation, beta), rows]);
                output = s => s;
                break;
            }
            case MemberMonotoneCell cell:
            {
                // T(s) = |s|(2Vᵀ − I) + 2α b̃ Vᵀ per member, with 2α V (U x + b) folded into one injection in float64.
                var parameters = cell.EffectiveParameters().ToArray();
                var (resolvent, step) = (parameters[0].to(ScalarType.Float64), parameters[3].to(ScalarType.Float64));
                var scaled = resolvent.mul(step.Mul(2));
                var dtype = cell.InjectionWeight.dtype;
                injected = Injected(scaled.bmm(cell.InjectionWeight.to(ScalarType.Float64)).to(dtype),
                    scaled.bmm(cell.InjectionBias.to(ScalarType.Float64).unsqueeze(2)).squeeze(2).to(dtype));
                reflection = g.Initializer("monotone_reflection", resolvent.transpose(1, 2).Mul(2).sub(eye(h, dtype: ScalarType.Float64)).to(dtype));
                map = (body, s) => body.Node("Reshape", [body.Add(body.MatMul(body.Node("Reshape", [body.Node("Abs", [s]), memberRows]), reflection), injected), rows]);
                output = s => g.Node("Relu", [s]);
                break;
            }
            default:
                throw new NotSupportedException($"The member cell is a {model.Cell.GetType().Name}; only MemberContractiveCell and MemberMonotoneCell can be exported.");
        }

        var start = g.ZerosLike(g.Node("Reshape", [injected, rows]), h, h);
        var solve = OnnxFixedPointLoop.Emit(g, start, h, map, loop);
        // Σ_k H_k z_k / K as one product: [K·B, h] → [B, K·h] against the stacked heads.
        var state = g.Node("Reshape", [g.Node("Transpose", [g.Node("Reshape", [output(solve.Solution), memberRows])], null, OnnxGraphBuilder.Attribute("perm", [1L, 0L, 2L])),
            g.Int64("member_features", -1, k * h)]);
        var (head, headBias) = model.Head;
        var (skip, skipBias) = model.Skip;
        var scores = g.Add(g.Add(g.MatMul(state, g.Initializer("head_weight_t", head.transpose(1, 2).reshape(k * h, model.Outputs).Div(k))),
            g.MatMul(x, g.Initializer("skip_weight_t", skip.mean([0]).t()))), g.Initializer("bias", headBias.Add(skipBias).mean([0])));

        var metadata = new Dictionary<string, string>
        {
            ["input.x"] = "feature rows [batch, features]",
            ["members"] = k.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["output.iterations"] = "largest fixed-point iteration count of the members' equilibrium solves, per row",
            ["output.residual"] = "largest final residual of the members' equilibrium solves, per row: ‖f(z) − z‖ / (‖f(z)‖ + absolute_tolerance / tolerance), at most the tolerance exactly where converged",
            ["output.converged"] = "whether every member's equilibrium solve met the stopping rule for the row",
        };
        SupervisedGraph.EmitOutputs(g, scores, model.Task, model.Outputs, metadata);
        var perRow = g.Int64("member_row_grid", k, -1);
        string Largest(string values) => g.Reduce("ReduceMax", g.Node("Reshape", [values, perRow]), 0, keepDims: false);
        var converged = g.Cast(g.Reduce("ReduceMin", g.Node("Reshape", [g.Cast(solve.Converged, TensorProto.Types.DataType.Float), perRow]), 0, keepDims: false),
            TensorProto.Types.DataType.Bool);
        OnnxModelFactory.SolverOutputs(g, Largest(solve.Iterations), Largest(solve.Residual), converged);
        return OnnxModelFactory.Create(g, options, "equilibrium-members-" + model.Task.ToString().ToLowerInvariant(), loop, metadata);
    }
}
