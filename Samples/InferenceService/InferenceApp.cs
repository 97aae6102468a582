using System.Text.Json;
using System.Text.Json.Serialization;

namespace Invertible.Samples.InferenceService;

/// <summary>The service: a minimal API over <see cref="ModelStore"/>, on Kestrel bound to loopback.</summary>
public static class InferenceApp
{
    /// <summary>Default address: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Builds the app. Arguments: --models &lt;folder&gt; (default ./models) and the usual ASP.NET Core ones (--urls).</summary>
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
            builder.WebHost.UseUrls(DefaultUrl);
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            // NaN and infinities may arrive as "NaN"/"Infinity" so that they are rejected by name, not as a parse error.
            options.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
            options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        });
        var folder = builder.Configuration["models"] ?? Path.Combine(Directory.GetCurrentDirectory(), "models");
        builder.Services.AddSingleton(_ => new ModelStore(folder));

        var app = builder.Build();
        app.MapGet("/models", (ModelStore store) => Results.Json(store.Describe()));
        app.MapPost("/models/{name}/{operation}", (string name, string operation, RowsRequest request, ModelStore store) =>
        {
            try
            {
                return Results.Json(store.Run(name, operation, request.Rows));
            }
            catch (RequestException e)
            {
                return Results.Json(new ErrorResponse(e.Message), statusCode: e.StatusCode);
            }
        });
        return app;
    }
}

/// <summary>A batch of rows to evaluate.</summary>
/// <param name="Rows">Rows of equal width.</param>
public sealed record RowsRequest(float[][]? Rows);

/// <summary>An error answer.</summary>
/// <param name="Error">What is wrong with the request.</param>
public sealed record ErrorResponse(string Error);

/// <summary>A request the service refuses, with its HTTP status.</summary>
public sealed class RequestException(int statusCode, string message) : Exception(message)
{
    /// <summary>400 for bad input, 404 for an unknown model or operation.</summary>
    public int StatusCode { get; } = statusCode;
}
