namespace Invertible.Torch.LogDet;

/// <summary>How log|det(I + J_g)| is computed.</summary>
public enum LogDetMethod
{
    /// <summary>Per-row Jacobian (analytic where the layer provides it, else autograd) and <c>slogdet</c>. Exact; cost grows as d³.</summary>
    Exact,
    /// <summary>Truncated power series with exact traces of the dense Jacobian: deterministic (exported to ONNX as the same series).</summary>
    ExactTraceSeries,
    /// <summary>Truncated power series with Hutchinson trace estimates (i-ResNet): biased by the truncation.</summary>
    PowerSeries,
    /// <summary>Power series with Russian-roulette truncation (Residual Flows): unbiased.</summary>
    RussianRoulette,
    /// <summary>
    /// Truncated power series with Hutchinson traces on fixed probes — the same seeded vectors for every row and every call
    /// (<see cref="LogDetOptions.ProbeSeed"/>): deterministic, and its cost grows as d, not d³ (vector–Jacobian products
    /// only), so it is the evaluation estimator of large images; exported to ONNX as the same series. Its error —
    /// truncation plus the probes' variance — is measured, not bounded: compare with <see cref="Exact"/> on a sample.
    /// </summary>
    FixedProbeSeries,
}

/// <summary>Probe distribution of the Hutchinson trace estimator tr(A) ≈ vᵀ A v.</summary>
public enum TraceProbe
{
    /// <summary>Standard normal entries.</summary>
    Gaussian,
    /// <summary>Entries ±1 with equal probability (lower variance).</summary>
    Rademacher,
}
