using Invertible.Torch.Core;
using Invertible.ML.Hosting;

namespace Invertible.ML.Trainers;

/// <summary>
/// What the supervised trainers share beyond <see cref="TrainingOptions"/>: the columns, and cross-fitting — K members
/// of the model, each trained on the rows outside its own fold and validated on that fold, averaged in the result.
/// </summary>
public abstract class SupervisedTrainingOptions : TrainingOptions
{
    private protected SupervisedTrainingOptions(int epochs, int batchSize, double learningRate, double weightDecay, double validationFraction, int patience)
        : base(epochs, batchSize, learningRate, weightDecay, validationFraction, patience)
    {
    }

    /// <summary>The label column: a key (multiclass), Boolean (binary) or Single (regression). Default "Label".</summary>
    public string LabelColumnName = "Label";

    /// <summary>The feature column: a known-size vector of Single. Default "Features".</summary>
    public string FeatureColumnName = "Features";

    /// <summary>
    /// Cross-fitted members K: every row trains K − 1 members and validates one, and the result averages them. 1 trains
    /// a single model that holds out <see cref="TrainingOptions.ValidationFraction"/> of the rows. Default (null): 5 below
    /// 10 000 rows, 1 from there on (see <see cref="SupervisedFit.LargeRows"/>).
    /// </summary>
    public int? Members;

    /// <summary>
    /// Label smoothing ε of the classification losses in training (the true class keeps 1 − ε, ε is spread over all
    /// classes); validation uses the plain loss. Default 0.
    /// </summary>
    public double LabelSmoothing;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option of this class.</summary>
    private protected void ValidateSupervised()
    {
        Check.ColumnName(LabelColumnName, nameof(LabelColumnName));
        Check.ColumnName(FeatureColumnName, nameof(FeatureColumnName));
        OptionCheck.Between(Members, 1, 64);
        OptionCheck.Within(LabelSmoothing, 0, true, 1, false);
        ValidateTraining();
    }
}
