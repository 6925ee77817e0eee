using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Coordination.Server.Persistence.Migrations.Postgres;

/// <summary>
/// Events in GRAS groups: the event (sealed details, creator membership, cancelled) and one sealed
/// answer per membership. Both go with their group (and an answer with its membership).
/// PostgreSQL's form of the SQLite migration of the same name (uuid, bytea, bigint, boolean).
/// Written by hand; <c>MigrationTests</c> checks it matches the EF model.
/// </summary>
[DbContext(typeof(PostgresCoordinationDbContext))]
[Migration("20261121020000_Events")]
public sealed class Events : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            CREATE TABLE "GroupEvents" (
                "Id" uuid NOT NULL,
                "CellId" uuid NOT NULL,
                "CreatorMembershipId" uuid NOT NULL,
                "SealedDetails" bytea NOT NULL,
                "Cancelled" boolean NOT NULL,
                CONSTRAINT "PK_GroupEvents" PRIMARY KEY ("Id"),
                CONSTRAINT "FK_GroupEvents_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_GroupEvents_CellId" ON "GroupEvents" ("CellId");

            CREATE TABLE "EventRsvps" (
                "EventId" uuid NOT NULL,
                "MembershipId" uuid NOT NULL,
                "SealedAnswer" bytea NOT NULL,
                CONSTRAINT "PK_EventRsvps" PRIMARY KEY ("EventId", "MembershipId"),
                CONSTRAINT "FK_EventRsvps_GroupEvents_EventId" FOREIGN KEY ("EventId") REFERENCES "GroupEvents" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_EventRsvps_Memberships_MembershipId" FOREIGN KEY ("MembershipId") REFERENCES "Memberships" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_EventRsvps_MembershipId" ON "EventRsvps" ("MembershipId");
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            DROP TABLE "EventRsvps";
            DROP TABLE "GroupEvents";
            """);
    }
}
