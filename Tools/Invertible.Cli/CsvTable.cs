using System.Globalization;

namespace Invertible.Cli;

/// <summary>
/// A comma-separated file with a header row, read whole and checked: every problem is reported with the file and the
/// line number (1-based, the header is line 1).
/// </summary>
internal sealed class CsvTable
{
    private CsvTable(string path, string[] header, List<(int Line, string[] Cells)> rows) => (Path, Header, Rows) = (path, header, rows);

    public string Path { get; }

    public string[] Header { get; }

    public List<(int Line, string[] Cells)> Rows { get; }

    public static CsvTable Read(string path)
    {
        if (!File.Exists(path))
            throw new CliException($"{path}: no such file.");
        using var reader = new StreamReader(path);
        var headerLine = reader.ReadLine();
        if (string.IsNullOrWhiteSpace(headerLine))
            throw new CliException($"{path}: the file is empty; expected a header line of column names.");
        var header = headerLine.Split(',').Select(h => h.Trim()).ToArray();
        var duplicate = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new CliException($"{path}, line 1: column '{duplicate.Key}' appears twice in the header.");
        var rows = new List<(int, string[])>();
        var number = 1;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (line.Length == 0)
                continue;
            var cells = line.Split(',');
            if (cells.Length != header.Length)
                throw new CliException($"{path}, line {number}: {cells.Length} cells, but the header has {header.Length} columns.");
            rows.Add((number, cells));
        }
        if (rows.Count == 0)
            throw new CliException($"{path}: the file has a header but no data rows.");
        return new CsvTable(path, header, rows);
    }

    /// <summary>The index of <paramref name="column"/>, or a message listing the columns there are.</summary>
    public int IndexOf(string column)
    {
        var index = Array.IndexOf(Header, column);
        return index >= 0 ? index : throw new CliException($"{Path}: no column '{column}'; the columns are {string.Join(", ", Header)}.");
    }

    /// <summary>The rows' values in <paramref name="columns"/>, as floats (row-major), every cell checked.</summary>
    public float[][] Floats(IReadOnlyList<int> columns)
        => Rows.Select(row => columns.Select(c => Parse(row.Line, c, row.Cells[c])).ToArray()).ToArray();

    private float Parse(int line, int column, string cell)
    {
        if (!float.TryParse(cell.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw new CliException($"{Path}, line {line}, column '{Header[column]}': '{cell}' is not a number.");
        if (!float.IsFinite(value))
            throw new CliException($"{Path}, line {line}, column '{Header[column]}': {cell} is not finite.");
        return value;
    }
}
