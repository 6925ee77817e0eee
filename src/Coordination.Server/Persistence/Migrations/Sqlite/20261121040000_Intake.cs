using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Coordination.Server.Persistence.Migrations.Sqlite;

/// <summary>
/// The anonymous intake: a cell's intakes (public key, private key sealed under the cell key),
/// their sealed reports (with the receipt's Argon2id lookup id, the day received and the expiry)
/// and the team's sealed replies. Everything goes with its cell. Reports are stored WITHOUT ROWID,
/// keyed by their random id, so no row number counts the order they arrived in within a day.
/// Replies keep their row number: it is how they are returned in the order they were written.
/// </summary>
[DbContext(typeof(SqliteCoordinationDbContext))]
[Migration("20261121040000_Intake")]
public sealed class Intake : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            CREATE TABLE "Intakes" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_Intakes" PRIMARY KEY,
                "CellId" TEXT NOT NULL,
                "PublicKey" BLOB NOT NULL,
                "SealedPrivateKey" BLOB NOT NULL,
                "RetentionDays" INTEGER NOT NULL,
                "PowDifficulty" INTEGER NOT NULL,
                CONSTRAINT "FK_Intakes_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Intakes_CellId" ON "Intakes" ("CellId");

            CREATE TABLE "IntakeReports" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_IntakeReports" PRIMARY KEY,
                "IntakeId" TEXT NOT NULL,
                "SealedReport" BLOB NOT NULL,
                "ReceiptLookupId" BLOB NOT NULL,
                "ReceivedOn" INTEGER NOT NULL,
                "ExpiresAt" INTEGER NOT NULL,
                "State" INTEGER NOT NULL,
                CONSTRAINT "FK_IntakeReports_Intakes_IntakeId" FOREIGN KEY ("IntakeId") REFERENCES "Intakes" ("Id") ON DELETE CASCADE
            ) WITHOUT ROWID;
            CREATE INDEX "IX_IntakeReports_IntakeId" ON "IntakeReports" ("IntakeId");
            CREATE INDEX "IX_IntakeReports_ReceiptLookupId" ON "IntakeReports" ("ReceiptLookupId");
            CREATE INDEX "IX_IntakeReports_ExpiresAt" ON "IntakeReports" ("ExpiresAt");

            CREATE TABLE "IntakeReplies" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_IntakeReplies" PRIMARY KEY,
                "ReportId" TEXT NOT NULL,
                "Sealed" BLOB NOT NULL,
                "ExpiresAt" INTEGER NOT NULL,
                CONSTRAINT "FK_IntakeReplies_IntakeReports_ReportId" FOREIGN KEY ("ReportId") REFERENCES "IntakeReports" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_IntakeReplies_ReportId" ON "IntakeReplies" ("ReportId");
            CREATE INDEX "IX_IntakeReplies_ExpiresAt" ON "IntakeReplies" ("ExpiresAt");
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            DROP TABLE "IntakeReplies";
            DROP TABLE "IntakeReports";
            DROP TABLE "Intakes";
            """);
    }
}
