using System.Globalization;
using Invertible.Torch.Checks;
using Invertible.Torch.Equilibrium;
using Invertible.Torch.Implicit;
using Invertible.Torch.Solvers;
using TorchSharp;
using static TorchSharp.torch;

// The differentiable linear solve and the fixed-point (equilibrium) layer used from plain TorchSharp, no ML.NET:
// dotnet run -c Release --project Samples/TorchSharpLayers
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
manual_seed(7);

Console.WriteLine("1. A differentiable linear solve: fit θ in A(θ) = I + θθᵀ so that A⁻¹b hits a target");
var n = 32;
var factor = new TorchSharp.Modules.Parameter(randn([n, 8], dtype: ScalarType.Float64).mul(0.3));
var b = randn([16, n], dtype: ScalarType.Float64);
var target = randn([16, n], dtype: ScalarType.Float64).mul(0.2);
Tensor Matrix() => eye(n, dtype: ScalarType.Float64).add(factor.mm(factor.t()));
Tensor MatVec(Tensor x) => x.add(x.mm(factor).mm(factor.t()));   // A x without forming A: what a Krylov solve needs
var optimizer = optim.Adam([factor], 0.05);
for (var step = 0; step <= 200; step++)
{
    using var scope = NewDisposeScope();
    optimizer.zero_grad();
    var (x, statistics) = LinearSolve.Solve(MatVec, b, [factor]);       // conjugate gradients, backward = one more solve
    var loss = x.sub(target).square().mean();
    loss.backward();
    optimizer.step();
    if (step % 50 == 0)
        Console.WriteLine($"  step {step,3}: loss {loss.ToDouble():F5}; {statistics}");
}
var dense = LinearSolve.Solve(Matrix(), b.t()).t();                     // the dense solve, differentiable in A and b
var (matrixFree, _) = LinearSolve.Solve(MatVec, b, [factor]);
Console.WriteLine($"  dense vs matrix-free solution: max |diff| {dense.sub(matrixFree).abs().max().ToDouble():E1}");
var error = GradientCheck.AgainstFiniteDifferences(() => LinearSolve.Solve(MatVec, b, [factor]).Solution.sub(target).square().mean(), [factor]);
Console.WriteLine($"  gradient of the matrix-free solve vs finite differences: relative error {error:E1}");

Console.WriteLine();
Console.WriteLine("2. A fixed-point layer: z* = tanh(W z* + U x + c) with ‖W‖ ≤ 0.9, fitted to y = sin(3x) through a linear read-out");
var cell = new EquilibriumCell(stateFeatures: 32, inputFeatures: 1, coefficient: 0.9);
var layer = new EquilibriumLayer(cell, new EquilibriumOptions { Forward = new FixedPointOptions { Solver = FixedPointSolverKind.Anderson, Tolerance = 1e-5 } });
var readout = nn.Linear(32, 1);
var inputs = linspace(-1, 1, 256).unsqueeze(1);
var outputs = inputs.mul(3).sin();
var adam = optim.Adam(layer.parameters().Concat(readout.parameters()), 1e-2);
for (var step = 0; step <= 600; step++)
{
    using var scope = NewDisposeScope();
    adam.zero_grad();
    var result = layer.Solve(inputs);                                     // forward: a fixed-point solve, no tape
    var loss = readout.call(result.State).sub(outputs).square().mean();
    loss.backward();                                                       // backward: one adjoint solve with VJPs
    adam.step();
    if (step % 150 == 0)
        Console.WriteLine($"  step {step,3}: loss {loss.ToDouble():F5}; {result.Statistics}");
}
layer.eval();
using (no_grad())
{
    var fit = readout.call(layer.forward(inputs));
    Console.WriteLine($"  max |f(x) − sin(3x)| over [−1, 1]: {fit.sub(outputs).abs().max().ToDouble():F4}; certified Lipschitz bound of the cell's map in z: {cell.ContractionBound():F3}");
}
