using System.Globalization;

namespace Invertible.Samples.Quickstart;

/// <summary>Console formatting shared by the sections.</summary>
internal static class Report
{
    public static void Heading(string title)
    {
        Console.WriteLine();
        Console.WriteLine(title);
        Console.WriteLine(new string('-', title.Length));
    }

    public static void Table(string[] header, IEnumerable<string[]> rows)
    {
        var all = new[] { header }.Concat(rows).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(i => all.Max(r => r[i].Length)).ToArray();
        foreach (var (row, index) in all.Select((r, i) => (r, i)))
        {
            Console.WriteLine("  " + string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))));
            if (index == 0)
                Console.WriteLine("  " + string.Join("  ", widths.Select(w => new string('-', w))));
        }
    }

    public static string Sci(double value) => value.ToString("0.0e+00", CultureInfo.InvariantCulture);

    public static string Fixed(double value, int decimals = 2) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);
}
