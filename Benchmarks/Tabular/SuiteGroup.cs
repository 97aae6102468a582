namespace Invertible.Benchmarks.Tabular;

/// <summary>Which trainers a data set is run with: classification sets run the multiclass group, and two-class sets the
/// binary group as well.</summary>
public enum SuiteGroup
{
    /// <summary>Multiclass classifiers on every classification set (accuracy).</summary>
    Multiclass,
    /// <summary>Binary classifiers on two-class sets (accuracy; the positive class is the second name in ordinal order).</summary>
    Binary,
    /// <summary>Regression (R²).</summary>
    Regression,
    /// <summary>Anomaly detectors (AUROC; higher score = more anomalous).</summary>
    Anomaly,
}
