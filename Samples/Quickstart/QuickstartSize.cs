namespace Invertible.Samples.Quickstart;

/// <summary>How much the quickstart trains: the full demo, or a reduced run for the test that checks its output.</summary>
internal sealed record QuickstartSize(int ToyRows, int FlowEpochs, int GridSize, int ClassifierEpochs, int ClassifierState, int DigitFlowEpochs)
{
    public static readonly QuickstartSize Full = new(ToyRows: 8000, FlowEpochs: 100, GridSize: 160, ClassifierEpochs: 20, ClassifierState: 256, DigitFlowEpochs: 70);

    public static readonly QuickstartSize Reduced = new(ToyRows: 1200, FlowEpochs: 3, GridSize: 40, ClassifierEpochs: 2, ClassifierState: 32, DigitFlowEpochs: 1);
}
