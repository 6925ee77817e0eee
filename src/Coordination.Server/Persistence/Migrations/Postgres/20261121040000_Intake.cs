using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Coordination.Server.Persistence.Migrations.Postgres;

/// <summary>
/// The anonymous intake: a cell's intakes (public key, private key sealed under the cell key),
/// their sealed reports (with the receipt's Argon2id lookup id, the day received and the expiry)
/// and the team's sealed replies. Everything goes with its cell. Reports are stored WITHOUT ROWID,
/// keyed by their random id, so no row number counts the order they arrived in within a day.
/// Replies keep their row number: it is how they are returned in the order they were written.
/// PostgreSQL's form of the SQLite migration of the same name (uuid, bytea, bigint, boolean).
/// Written by hand; <c>MigrationTests</c> checks it matches the EF model.
/// </summary>
[DbContext(typeof(PostgresCoordinationDbContext))]
[Migration("20261121040000_Intake")]
public sealed class Intake : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            CREATE TABLE "Intakes" (
                "Id" uuid NOT NULL,
                "CellId" uuid NOT NULL,
                "PublicKey" bytea NOT NULL,
                "SealedPrivateKey" bytea NOT NULL,
                "RetentionDays" integer NOT NULL,
                "PowDifficulty" integer NOT NULL,
                CONSTRAINT "PK_Intakes" PRIMARY KEY ("Id"),
                CONSTRAINT "FK_Intakes_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Intakes_CellId" ON "Intakes" ("CellId");

            CREATE TABLE "IntakeReports" (
                "Id" uuid NOT NULL,
                "IntakeId" uuid NOT NULL,
                "SealedReport" bytea NOT NULL,
                "ReceiptLookupId" bytea NOT NULL,
                "ReceivedOn" bigint NOT NULL,
                "ExpiresAt" bigint NOT NULL,
                "State" integer NOT NULL,
                CONSTRAINT "PK_IntakeReports" PRIMARY KEY ("Id"),
                CONSTRAINT "FK_IntakeReports_Intakes_IntakeId" FOREIGN KEY ("IntakeId") REFERENCES "Intakes" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_IntakeReports_ExpiresAt" ON "IntakeReports" ("ExpiresAt");
            CREATE INDEX "IX_IntakeReports_IntakeId" ON "IntakeReports" ("IntakeId");
            CREATE INDEX "IX_IntakeReports_ReceiptLookupId" ON "IntakeReports" ("ReceiptLookupId");

            CREATE TABLE "IntakeReplies" (
                "Id" uuid NOT NULL,
                "ReportId" uuid NOT NULL,
                "Sealed" bytea NOT NULL,
                "ExpiresAt" bigint NOT NULL,
                CONSTRAINT "PK_IntakeReplies" PRIMARY KEY ("Id"),
                CONSTRAINT "FK_IntakeReplies_IntakeReports_ReportId" FOREIGN KEY ("ReportId") REFERENCES "IntakeReports" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_IntakeReplies_ExpiresAt" ON "IntakeReplies" ("ExpiresAt");
            CREATE INDEX "IX_IntakeReplies_ReportId" ON "IntakeReplies" ("ReportId");
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
