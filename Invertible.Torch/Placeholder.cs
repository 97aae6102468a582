namespace Invertible.Torch; /// <summary>x</summary>
public static class Placeholder {}
