namespace Invertible.ML.Hosting;

/// <summary>Argument checks of the options classes: each throws naming the option and saying what it must be.</summary>
internal static class Check
{
    public static void ColumnName(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ArgumentException("A column name is required.", name);
    }

    public static void Positive(int? value, string name)
    {
        if (value is < 1)
            throw new ArgumentOutOfRangeException(name, value, "Must be at least 1.");
    }

    public static void Coefficient(double value, string name)
    {
        if (!(value > 0 && value < 1))
            throw new ArgumentOutOfRangeException(name, value, "Must lie in (0, 1).");
    }

    public static void Tolerance(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, "Must be positive and finite.");
    }

    public static void Defined<T>(T value, string name) where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
            throw new ArgumentOutOfRangeException(name, value, $"Unknown {typeof(T).Name}.");
    }

    public static void Training(int epochs, int batchSize, double learningRate, double weightDecay, double validationFraction, int patience)
    {
        Positive(epochs, "Epochs");
        Positive(batchSize, "BatchSize");
        if (!(learningRate > 0) || double.IsInfinity(learningRate))
            throw new ArgumentOutOfRangeException("LearningRate", learningRate, "Must be positive and finite.");
        if (!(weightDecay >= 0) || double.IsInfinity(weightDecay))
            throw new ArgumentOutOfRangeException("WeightDecay", weightDecay, "Must be finite and non-negative.");
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException("ValidationFraction", validationFraction, "Must lie in [0, 1).");
        if (patience < 0)
            throw new ArgumentOutOfRangeException("EarlyStoppingPatience", patience, "Must be non-negative.");
    }

    public static void DeviceName(string? value, string name) => Devices.Resolve(value, name);
}
