using Invertible.Torch.Core;
namespace Invertible.Torch.LogDet;

/// <summary>Options of a log-determinant estimator. Every property has a documented default.</summary>
public sealed class LogDetOptions
{
    /// <summary>Default values.</summary>
    public static class Defaults
    {
        /// <summary>Default <see cref="LogDetOptions.Terms"/>.</summary>
        public const int Terms = 10;
        /// <summary>Default <see cref="LogDetOptions.Probes"/>.</summary>
        public const int Probes = 1;
        /// <summary>Default <see cref="LogDetOptions.ExactTerms"/>.</summary>
        public const int ExactTerms = 2;
        /// <summary>Default <see cref="LogDetOptions.RouletteProbability"/>.</summary>
        public const double RouletteProbability = 0.5;
        /// <summary>Default <see cref="LogDetOptions.MaxTerms"/>.</summary>
        public const int MaxTerms = 100;
    }

    /// <summary>The method. Default <see cref="LogDetMethod.Exact"/>.</summary>
    public LogDetMethod Method { get; init; } = LogDetMethod.Exact;

    /// <summary>Series terms n (power series and exact-trace series). Default 10.</summary>
    public int Terms { get; init; } = Defaults.Terms;

    /// <summary>Hutchinson probes per row, averaged (stochastic methods). Default 1.</summary>
    public int Probes { get; init; } = Defaults.Probes;

    /// <summary><see cref="LogDetMethod.FixedProbeSeries"/>: the seed of the fixed probes. Default 0.</summary>
    public int ProbeSeed { get; init; }

    /// <summary>Probe distribution. Default Gaussian.</summary>
    public TraceProbe Probe { get; init; } = TraceProbe.Gaussian;

    /// <summary>Russian roulette: terms always evaluated before the random truncation. Default 2.</summary>
    public int ExactTerms { get; init; } = Defaults.ExactTerms;

    /// <summary>Russian roulette: success probability p of the geometric number of extra terms (mean (1 − p)/p). Default 0.5.</summary>
    public double RouletteProbability { get; init; } = Defaults.RouletteProbability;

    /// <summary>Russian roulette: hard cap on terms (a safeguard; the estimator is unbiased below it). Default 100.</summary>
    public int MaxTerms { get; init; } = Defaults.MaxTerms;

    /// <summary>
    /// Stochastic methods in training: compute the gradient with the Neumann series during the forward pass
    /// (Residual Flows) so memory does not grow with the number of terms. When false, autograd differentiates through
    /// every term. Default true.
    /// </summary>
    public bool NeumannGradient { get; init; } = true;

    /// <summary>Exact log-determinant.</summary>
    public static LogDetOptions Exact { get; } = new();

    /// <summary>Creates the estimator these options describe.</summary>
    public ILogDetEstimator CreateEstimator()
    {
        Validate();
        return Method switch
        {
            LogDetMethod.Exact => new ExactLogDet(),
            LogDetMethod.ExactTraceSeries => new ExactTraceSeriesLogDet(Terms),
            LogDetMethod.PowerSeries or LogDetMethod.RussianRoulette or LogDetMethod.FixedProbeSeries => new StochasticSeriesLogDet(this),
            _ => throw new ArgumentOutOfRangeException(nameof(Method), Method, "Unknown method."),
        };
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        OptionCheck.Defined(Method);
        OptionCheck.AtLeast(Terms, 1);
        OptionCheck.AtLeast(Probes, 1);
        OptionCheck.AtLeast(ProbeSeed, 0);
        OptionCheck.Defined(Probe);
        OptionCheck.AtLeast(ExactTerms, 0);
        OptionCheck.Within(RouletteProbability, 0, false, 1, false);
        OptionCheck.AtLeast(MaxTerms, ExactTerms + 1);
    }
}
