namespace Invertible.ML; /// <summary>x</summary>
public static class Placeholder {}
