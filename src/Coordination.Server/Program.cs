using Coordination.Server.Auth;
using Coordination.Server.Cells;
using Coordination.Server.Cluster;
using Coordination.Server.Events;
using Coordination.Server.Health;
using Coordination.Server.Hosting;
using Coordination.Server.Identity;
using Coordination.Server.InputLimits;
using Coordination.Server.Intake;
using Coordination.Server.IntakePage;
using Coordination.Server.Operations;
using Coordination.Server.Persistence;
using Coordination.Server.Relay;
using Coordination.Server.Tasks;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

builder.AddPrivacyPreservingLogging();
builder.AddSodium();
builder.AddProblemResponses();
builder.AddOperations();
builder.AddInputLimits();
builder.AddCoordinationDatabase();
builder.AddCluster();
builder.AddDeviceAuthentication();
builder.AddIdentity();
builder.AddRelay();
builder.AddCells();
builder.AddEvents();
builder.AddTasks();
builder.AddIntake();
builder.AddIntakePage();

WebApplication app = builder.Build();

app.MigrateDatabase();
app.UseProblemResponses();
app.UseWebSockets();
app.UseDeviceAuthentication();
app.MapHealth();
app.MapOperations();
app.MapOpenApiDocument();
app.MapAuth();
app.MapIdentity();
app.MapRelay();
app.MapCells();
app.MapEvents();
app.MapTasks();
app.MapIntake();
app.MapIntakePage();

app.Run();
