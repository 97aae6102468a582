using Invertible.ML.Flows;
using Invertible.ML.Trainers;

namespace Invertible.Tests.ML;

/// <summary>The defaults that are rules of the data's size, at and around their thresholds.</summary>
[TestClass]
public sealed class DefaultRulesTests
{
    [TestMethod]
    public void SupervisedTrainers_CrossFitFiveMembers_BelowTenThousandRows_AndTrainOneModelFromThere()
    {
        Assert.AreEqual(5, SupervisedFit.MembersFor(150));
        Assert.AreEqual(5, SupervisedFit.MembersFor(9_999));
        Assert.AreEqual(1, SupervisedFit.MembersFor(10_000));
        Assert.AreEqual(1, SupervisedFit.MembersFor(1_000_000));
    }

    [TestMethod]
    public void FlowSchedule_KeepsBatchAndEpochsOnSmallData_AndLevelsOffTheStepsOnLargeData()
    {
        Assert.AreEqual((128, 200), InvertibleResNetEstimator.Schedule(1_000, 128, 200), "1 000 rows: 8 steps per epoch, every epoch");
        Assert.AreEqual((128, 62), InvertibleResNetEstimator.Schedule(8_192, 128, 200), "64 steps per epoch: the step budget caps the epochs");
        Assert.AreEqual((625, 62), InvertibleResNetEstimator.Schedule(40_000, 128, 200), "the batch grows so an epoch keeps 64 steps");
        Assert.AreEqual((15_625, 62), InvertibleResNetEstimator.Schedule(1_000_000, 128, 200));
        Assert.AreEqual((128, 10), InvertibleResNetEstimator.Schedule(1_000, 128, 10), "a smaller epoch count set by the user stays");
        var (batch, epochs) = InvertibleResNetEstimator.Schedule(400_000, 128, 200);
        Assert.IsTrue(epochs >= InvertibleResNetEstimator.MinimumEpochs && (400_000 + batch - 1) / batch <= InvertibleResNetEstimator.MaxStepsPerEpoch);
    }
}
