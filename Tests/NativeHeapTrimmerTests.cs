using Invertible.Tests.Support;
using Invertible.Torch.Core;
using Invertible.Torch.Training;
using Invertible.Torch;
using static TorchSharp.torch;

namespace Invertible.Tests;

[TestClass]
public sealed class NativeHeapTrimmerTests
{
    private const long Megabyte = 1 << 20;

    /// <summary>A resident set that follows a script: each trim takes it to the next "after trim" value.</summary>
    private sealed class ScriptedHeap(params long[] readings)
    {
        private int next;
        public int Trims { get; private set; }
        public long Read() => readings[Math.Min(next++, readings.Length - 1)];
        public bool Trim() { Trims++; return true; }
    }

    [TestMethod]
    public void Check_TrimsOnlyPastTheLimit_AndRaisesTheReferenceToWhatRemains()
    {
        // Readings: reference 100; 114 (within 1.15); 130 → trim → 120 remains (real growth); 130 (within 1.15 × 120); 140 → trim → 100.
        var heap = new ScriptedHeap(100, 114, 130, 120, 130, 140, 100);
        var trimmer = new NativeHeapTrimmer(1.15, heap.Read, heap.Trim);
        Assert.IsFalse(trimmer.Check(), "first check sets the reference");
        Assert.AreEqual(100, trimmer.ReferenceBytes);
        Assert.IsFalse(trimmer.Check(), "114 is within 1.15 × 100");
        Assert.IsTrue(trimmer.Check(), "130 is past 1.15 × 100");
        Assert.AreEqual(120, trimmer.ReferenceBytes, "what remains after the trim is held memory");
        Assert.IsFalse(trimmer.Check(), "130 is within 1.15 × 120: no trim every step for held memory");
        Assert.IsTrue(trimmer.Check(), "140 is past 1.15 × 120");
        Assert.AreEqual(120, trimmer.ReferenceBytes, "the reference never drops below what the loop held");
        Assert.AreEqual(2, heap.Trims);
        Assert.AreEqual(2, trimmer.Trims);
    }

    [TestMethod]
    public void Check_WithoutATrim_StopsTryingAtThatLevel_AndWithoutMeasurements_DoesNothing()
    {
        var calls = 0;
        var untrimmable = new NativeHeapTrimmer(1.15, new ScriptedHeap(100, 200, 210).Read, () => { calls++; return false; });
        untrimmable.Check();
        Assert.IsFalse(untrimmable.Check());
        Assert.IsFalse(untrimmable.Check(), "210 is within 1.15 × 200");
        Assert.AreEqual(1, calls);

        var unmeasured = new NativeHeapTrimmer(1.15, () => -1, () => { calls++; return true; });
        Assert.IsFalse(unmeasured.Check());
        Assert.IsFalse(unmeasured.Check());
        Assert.AreEqual(1, calls);
        Assert.AreEqual(-1, unmeasured.ReferenceBytes);
    }

    [TestMethod]
    [DataRow(1.0)]
    [DataRow(double.NaN)]
    public void Constructor_RejectsALimitOfOneOrLess(double limit)
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NativeHeapTrimmer(limit));
        Assert.AreEqual("growthLimit", error.ParamName);
        var options = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TrainerOptions { NativeHeapGrowthLimit = limit }.Validate());
        Assert.AreEqual(nameof(TrainerOptions.NativeHeapGrowthLimit), options.ParamName);
    }

    /// <summary>
    /// A burst in the middle of training — heap memory freed but kept — is returned at the next step by default, and
    /// stays resident when the trimmer is disabled.
    /// </summary>
    [TestMethod]
    [DoNotParallelize]
    [DataRow(true)]
    [DataRow(false)]
    public void Fit_ReturnsABurstOfKeptHeapMemory_UnlessDisabled(bool byDefault)
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("Linux only.");
        manual_seed(5);
        var model = nn.Linear(4, 1);
        var data = randn(256, 4);
        HeapFragment? burst = null;
        long burstResident = 0, lastResident = 0;
        var step = 0;
        Tensor Loss(IReadOnlyList<Tensor> batch, TrainingMetrics _)
        {
            if (++step == 3)
            {
                burst = new HeapFragment(192 * Megabyte);
                burstResident = NativeMemory.ResidentBytes();
            }
            if (step == 8)
                lastResident = NativeMemory.ResidentBytes();
            return model.call(batch[0]).square().mean();
        }
        var options = new TrainerOptions { Epochs = 1, BatchSize = 32, ValidationFraction = 0 };
        if (!byDefault)
            options = new TrainerOptions { Epochs = 1, BatchSize = 32, ValidationFraction = 0, NativeHeapGrowthLimit = double.PositiveInfinity };
        try
        {
            Trainer.Fit(model, [data], Loss, options);
        }
        finally
        {
            burst?.Dispose();
        }
        var returned = burstResident - lastResident;
        if (byDefault)
            Assert.IsGreaterThan(150 * Megabyte, returned, $"bytes returned after the burst ({burstResident / Megabyte} MB → {lastResident / Megabyte} MB)");
        else
            Assert.IsLessThan(50 * Megabyte, returned, $"disabled: the burst stays resident ({burstResident / Megabyte} MB → {lastResident / Megabyte} MB)");
    }
}
