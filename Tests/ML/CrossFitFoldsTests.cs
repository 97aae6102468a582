using Invertible.ML.Data;

namespace Invertible.Tests.ML;

/// <summary>The deal of rows to folds: each row validates exactly one member, every fold holds each class in proportion.</summary>
[TestClass]
public sealed class CrossFitFoldsTests
{
    [TestMethod]
    public void EveryRow_ValidatesExactlyOneMember_AndEachClassIsSpreadEvenly()
    {
        // Classes of 9, 40 and 151 rows (a rare class like glass's smallest), interleaved.
        var groups = Enumerable.Range(0, 200).Select(i => i % 22 == 0 ? 0 : i % 5 == 0 ? 1 : 2).ToArray();
        var folds = CrossFitFolds.Deal(groups, groups.Length, 5, 0.2, seed: 3);
        for (var row = 0; row < groups.Length; row++)
        {
            Assert.IsTrue(folds.IsValidated(row), $"row {row} validates a member");
            Assert.IsTrue(folds.Of(row) is >= 0 and < 5, $"row {row} is in fold {folds.Of(row)}");
        }
        foreach (var group in groups.Distinct())
        {
            var perFold = Enumerable.Range(0, 5).Select(k => Enumerable.Range(0, groups.Length).Count(r => groups[r] == group && folds.Of(r) == k)).ToArray();
            Assert.IsTrue(perFold.Max() - perFold.Min() <= 1, $"class {group}: {string.Join(", ", perFold)} rows per fold");
        }
        // Each class continues the deal where the previous one stopped, so the folds' sizes differ by one row at most.
        var sizes = folds.ValidatedRows();
        Assert.IsTrue(sizes.Max() - sizes.Min() <= 1, $"fold sizes {string.Join(", ", sizes)}");
    }

    [TestMethod]
    public void OneMember_HoldsOutItsShareOfEachClass_AndTheSeedDecidesWhich()
    {
        var groups = Enumerable.Range(0, 300).Select(i => i % 3).ToArray();
        var a = CrossFitFolds.Deal(groups, 300, 1, 0.2, seed: 1);
        var b = CrossFitFolds.Deal(groups, 300, 1, 0.2, seed: 2);
        foreach (var group in new[] { 0, 1, 2 })
            Assert.AreEqual(20, Enumerable.Range(0, 300).Count(r => groups[r] == group && a.IsValidated(r)), $"class {group}: 20 % of 100 rows validate");
        Assert.IsTrue(Enumerable.Range(0, 300).Any(r => a.IsValidated(r) != b.IsValidated(r)), "another seed holds out other rows");
        Assert.IsTrue(Enumerable.Range(0, 300).All(r => a.IsValidated(r) == CrossFitFolds.Deal(groups, 300, 1, 0.2, seed: 1).IsValidated(r)), "the same seed the same rows");
    }

    [TestMethod]
    public void TooFewRows_AreNamed()
        => StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => CrossFitFolds.Deal(null, 7, 5, 0.2, 1)).Message, "7 rows are too few for 5 cross-fitted members");
}
