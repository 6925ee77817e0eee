using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Coordination.Server.Persistence.Migrations.Sqlite;

/// <summary>
/// Events in GRAS groups: the event (sealed details, creator membership, cancelled) and one sealed
/// answer per membership. Both go with their group (and an answer with its membership).
/// </summary>
[DbContext(typeof(SqliteCoordinationDbContext))]
[Migration("20261121020000_Events")]
public sealed class Events : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            CREATE TABLE "GroupEvents" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_GroupEvents" PRIMARY KEY,
                "CellId" TEXT NOT NULL,
                "CreatorMembershipId" TEXT NOT NULL,
                "SealedDetails" BLOB NOT NULL,
                "Cancelled" INTEGER NOT NULL,
                CONSTRAINT "FK_GroupEvents_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_GroupEvents_CellId" ON "GroupEvents" ("CellId");

            CREATE TABLE "EventRsvps" (
                "EventId" TEXT NOT NULL,
                "MembershipId" TEXT NOT NULL,
                "SealedAnswer" BLOB NOT NULL,
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
