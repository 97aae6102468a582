namespace Invertible.ML.Hosting;

/// <summary>The checks of ML.NET-only options (column and device names); numbers and enumerations go through
/// <see cref="Invertible.Torch.Core.OptionCheck"/>.</summary>
internal static class Check
{
    public static void ColumnName(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ArgumentException("A column name is required.", name);
    }

    public static void DeviceName(string? value, string name) => Devices.Resolve(value, name);
}
