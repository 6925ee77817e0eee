using Coordination.Server.Health;
using Coordination.Server.Hosting;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

builder.AddPrivacyPreservingLogging();
builder.AddSodium();
builder.Services.AddProblemDetails();

WebApplication app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapHealth();

app.Run();
