using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Invertible.Tests.Build;

/// <summary>
/// Every setting of every public options type says its default in its XML doc, and what it says is what the code does:
/// a "Default …" naming a value (a number, true/false, null or an enum member) must equal the value a new instance holds;
/// and each concept has one name across both packages.
/// </summary>
[TestClass]
public sealed partial class OptionsDocumentationTests
{
    private static readonly Assembly[] Libraries = [typeof(Invertible.Torch.Flows.InvertibleResNetFlow).Assembly, typeof(Invertible.ML.Flows.InvertibleResNetEstimator).Assembly];

    [TestMethod]
    public void EveryOptionDocumentsItsDefault_AndTheDocumentedValueIsTheCodes()
    {
        var problems = new List<string>();
        var checkedValues = 0;
        foreach (var assembly in Libraries)
        {
            var docs = XDocument.Load(Path.ChangeExtension(assembly.Location, ".xml")).Descendants("member")
                .ToDictionary(m => (string)m.Attribute("name")!, m => string.Concat(m.Element("summary")?.Nodes().Select(Text) ?? []));
            foreach (var type in assembly.GetExportedTypes().Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null))
            {
                var instance = Activator.CreateInstance(type)!;
                foreach (var member in Settings(type))
                {
                    var id = $"{(member is PropertyInfo ? "P" : "F")}:{member.DeclaringType!.FullName!.Replace('+', '.')}.{member.Name}";
                    var doc = docs.GetValueOrDefault(id, "");
                    var stated = DefaultStatement().Match(doc);
                    if (!stated.Success)
                    {
                        if (!doc.Contains("Default", StringComparison.Ordinal))
                            problems.Add($"{type.Name}.{member.Name}: no default in its doc");
                        continue;
                    }
                    var value = member is PropertyInfo p ? p.GetValue(instance) : ((FieldInfo)member).GetValue(instance);
                    checkedValues++;
                    if (!Same(stated.Groups["value"].Value, value))
                        problems.Add($"{type.Name}.{member.Name}: the doc says Default {stated.Groups["value"].Value}, a new instance holds {Format(value)}");
                }
            }
        }
        Assert.AreEqual(0, problems.Count, string.Join("\n", problems));
        Assert.IsTrue(checkedValues > 50, $"documented defaults compared: {checkedValues}");
    }

    /// <summary>One name per concept across both packages: the names another library or an older version of this one
    /// uses for a concept that has a name here.</summary>
    private static readonly Dictionary<string, string> Synonyms = new()
    {
        ["HiddenSize"] = "HiddenFeatures", ["HiddenUnits"] = "HiddenFeatures", ["HiddenWidth"] = "HiddenFeatures",
        ["HiddenLayers"] = "Depth", ["Layers"] = "Depth",
        ["LipschitzCoefficient"] = "Coefficient", ["LipschitzConstant"] = "Coefficient",
        ["StateSize"] = "StateFeatures", ["StateDimension"] = "StateFeatures",
        ["NumberOfBlocks"] = "Blocks", ["MaxIter"] = "MaxIterations", ["Tol"] = "Tolerance",
        ["Patience"] = "EarlyStoppingPatience", ["ValidationSplit"] = "ValidationFraction",
    };

    [TestMethod]
    public void OptionNames_UseOneNamePerConcept()
    {
        var found = Libraries.SelectMany(a => a.GetExportedTypes())
            .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) || (t.DeclaringType?.Name.EndsWith("Options", StringComparison.Ordinal) ?? false))
            .SelectMany(t => t.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly).Select(m => (Type: t, m.Name)))
            .Where(m => Synonyms.ContainsKey(m.Name))
            .Select(m => $"{m.Type.FullName}.{m.Name}: call it {Synonyms[m.Name]}")
            .ToList();
        Assert.AreEqual(0, found.Count, string.Join("\n", found));
    }

    [TestMethod]
    public void EveryOptionsType_HasAPublicValidate_ThatItsDefaultsPass()
    {
        var types = Libraries.SelectMany(a => a.GetExportedTypes())
            .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null).ToList();
        Assert.IsTrue(types.Count >= 15, $"options types found: {types.Count}");
        foreach (var type in types)
        {
            var validate = type.GetMethod("Validate", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
            Assert.IsNotNull(validate, $"{type.Name} has no public Validate()");
            validate.Invoke(Activator.CreateInstance(type), null);
        }
    }

    /// <summary>Numbers any value of which is meaningful (a seed): an out-of-range probe cannot apply to them.</summary>
    private static readonly HashSet<string> Unbounded = ["Seed"];

    /// <summary>
    /// One validator, one message format: for every number, enumeration and nested options object of every options type, an
    /// invalid value (NaN, int.MinValue, an undefined enum member, null) makes Validate throw an
    /// <see cref="ArgumentException"/> whose parameter is that option's own name and whose message starts "Must" or
    /// "Unknown" (or, for null, is the runtime's). A check that names the wrong option, lets NaN through or is missing fails.
    /// </summary>
    [TestMethod]
    public void EveryInvalidOption_IsRejectedByValidate_NamingItself()
    {
        var problems = new List<string>();
        var probed = 0;
        foreach (var type in Libraries.SelectMany(a => a.GetExportedTypes())
                     .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null))
        {
            var validate = type.GetMethod("Validate", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes)!;
            foreach (var member in Settings(type).Where(m => !Unbounded.Contains(m.Name)))
            {
                var memberType = member is PropertyInfo p ? p.PropertyType : ((FieldInfo)member).FieldType;
                if (InvalidValue(memberType) is not { } invalid || (invalid.Value is null && NullMeansARule(member)))
                    continue;
                var instance = Activator.CreateInstance(type)!;
                if (member is PropertyInfo property)
                    property.SetValue(instance, invalid.Value);
                else
                    ((FieldInfo)member).SetValue(instance, invalid.Value);
                probed++;
                try
                {
                    validate.Invoke(instance, null);
                    problems.Add($"{type.Name}.{member.Name} = {invalid.Label}: accepted");
                }
                catch (TargetInvocationException e) when (e.InnerException is ArgumentException thrown)
                {
                    if (thrown.ParamName != member.Name)
                        problems.Add($"{type.Name}.{member.Name} = {invalid.Label}: the exception names '{thrown.ParamName}'");
                    else if (thrown is ArgumentOutOfRangeException && !MessageFormat().IsMatch(thrown.Message))
                        problems.Add($"{type.Name}.{member.Name} = {invalid.Label}: message '{thrown.Message}' is not in the common format");
                }
            }
        }
        Assert.AreEqual(0, problems.Count, string.Join("\n", problems));
        Assert.IsTrue(probed > 80, $"options probed: {probed}");
    }

    // A nested options object declared nullable: null there is documented as "the rule applies".
    private static bool NullMeansARule(MemberInfo member)
    {
        var context = new NullabilityInfoContext();
        var info = member is PropertyInfo p ? context.Create(p) : context.Create((FieldInfo)member);
        return info.WriteState == NullabilityState.Nullable;
    }

    private static (object? Value, string Label)? InvalidValue(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(double))
            return (double.NaN, "NaN");
        if (underlying == typeof(int))
            return (int.MinValue, "int.MinValue");
        if (underlying.IsEnum)
            return (Enum.ToObject(underlying, -12345), "an undefined member");
        if (type.IsClass && type.Name.EndsWith("Options", StringComparison.Ordinal))
            return (null, "null");
        return null;
    }

    [GeneratedRegex(@"^(Must (be|lie|exceed) |Unknown \w+\.)")]
    private static partial Regex MessageFormat();

    [TestMethod]
    public void TheComparison_FindsAContradiction()
    {
        Assert.IsFalse(Same("Anderson", Invertible.Torch.Solvers.FixedPointSolverKind.Adaptive));
        Assert.IsTrue(Same("Adaptive", Invertible.Torch.Solvers.FixedPointSolverKind.Adaptive));
        Assert.IsFalse(Same("1e-5", 1e-6));
        Assert.IsTrue(Same("1e-6", 1e-6));
        Assert.IsTrue(DefaultStatement().IsMatch("Which solver to use. Default Anderson."));
        Assert.IsFalse(DefaultStatement().IsMatch("Default Jacobian-free (one step)"), "prose is not a value");
    }

    private static IEnumerable<MemberInfo> Settings(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0).Cast<MemberInfo>()
            .Concat(type.GetFields(BindingFlags.Public | BindingFlags.Instance).Where(f => !f.IsInitOnly));

    // A <see cref="T:…Kind.Member"/> becomes "Member"; other markup keeps its text.
    private static string Text(XNode node) => node switch
    {
        XText text => text.Value,
        XElement { Name.LocalName: "see" } see when (string?)see.Attribute("cref") is { } cref => cref[(cref.LastIndexOf('.') + 1)..],
        XElement { Name.LocalName: "see" } see when (string?)see.Attribute("langword") is { } word => word,
        XElement element => string.Concat(element.Nodes().Select(Text)),
        _ => "",
    };

    private static bool Same(string stated, object? value) => value switch
    {
        null => stated == "null",
        bool b => stated == (b ? "true" : "false"),
        Enum e => stated == e.ToString(),
        IConvertible c when double.TryParse(stated, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            => Math.Abs(c.ToDouble(CultureInfo.InvariantCulture) - number) <= 1e-12 * Math.Max(1, Math.Abs(number)),
        _ => true, // a value the doc states in words (a string, an object): not compared
    };

    private static string Format(object? value) => value switch { null => "null", IFormattable f => f.ToString(null, CultureInfo.InvariantCulture), _ => value.ToString()! };

    [GeneratedRegex(@"\bDefault:?\s+(?<value>-?[0-9][0-9.]*(?:e[-+]?[0-9]+)?|true|false|null|[A-Z][A-Za-z]+)\b(?![-\w]| ?\(?[a-z])")]
    private static partial Regex DefaultStatement();
}
