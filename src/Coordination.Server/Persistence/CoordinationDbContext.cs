using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Persistence;

/// <summary>
/// The one EF Core model. Each database provider has a thin subclass that owns its hand-written
/// migrations (there is no design-time tooling): <see cref="SqliteCoordinationDbContext"/> and
/// <see cref="PostgresCoordinationDbContext"/>.
/// </summary>
public abstract class CoordinationDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Account> Accounts => Set<Account>();

    public DbSet<Device> Devices => Set<Device>();

    public DbSet<LinkCode> LinkCodes => Set<LinkCode>();

    public DbSet<Session> Sessions => Set<Session>();

    public DbSet<Conversation> Conversations => Set<Conversation>();

    public DbSet<ConversationParticipant> ConversationParticipants => Set<ConversationParticipant>();

    public DbSet<Envelope> Envelopes => Set<Envelope>();

    public DbSet<SendReceipt> SendReceipts => Set<SendReceipt>();

    public DbSet<DeliveryCursor> DeliveryCursors => Set<DeliveryCursor>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(CoordinationDbContext).Assembly);
    }
}

/// <summary>The SQLite provider's context; its migrations are in Persistence/Migrations/Sqlite.</summary>
public sealed class SqliteCoordinationDbContext(DbContextOptions<SqliteCoordinationDbContext> options) : CoordinationDbContext(options);

/// <summary>The PostgreSQL provider's context; its migrations are in Persistence/Migrations/Postgres.</summary>
public sealed class PostgresCoordinationDbContext(DbContextOptions<PostgresCoordinationDbContext> options) : CoordinationDbContext(options);
