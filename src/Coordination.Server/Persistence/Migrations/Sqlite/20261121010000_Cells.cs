using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Coordination.Server.Persistence.Migrations.Sqlite;

/// <summary>
/// Cells and GRAS groups: the cell (sealed profile, log head), current memberships, the signed
/// membership log, invites (by lookup id), admission candidates and their vouches.
/// </summary>
[DbContext(typeof(SqliteCoordinationDbContext))]
[Migration("20261121010000_Cells")]
public sealed class Cells : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            CREATE TABLE "Cells" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_Cells" PRIMARY KEY,
                "Kind" INTEGER NOT NULL,
                "AnnouncementsId" TEXT NULL,
                "SealedProfile" BLOB NOT NULL,
                "EndsAt" INTEGER NULL,
                "LogLength" INTEGER NOT NULL,
                "LogHead" BLOB NOT NULL,
                CONSTRAINT "FK_Cells_Conversations_Id" FOREIGN KEY ("Id") REFERENCES "Conversations" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Cells_EndsAt" ON "Cells" ("EndsAt");

            CREATE TABLE "Memberships" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_Memberships" PRIMARY KEY,
                "CellId" TEXT NOT NULL,
                "AccountId" TEXT NOT NULL,
                "Role" INTEGER NOT NULL,
                "Ceiling" INTEGER NOT NULL,
                "SealedDisplayName" BLOB NULL,
                CONSTRAINT "FK_Memberships_Accounts_AccountId" FOREIGN KEY ("AccountId") REFERENCES "Accounts" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_Memberships_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE
            );
            CREATE UNIQUE INDEX "IX_Memberships_CellId_AccountId" ON "Memberships" ("CellId", "AccountId");
            CREATE INDEX "IX_Memberships_AccountId" ON "Memberships" ("AccountId");

            CREATE TABLE "MembershipLog" (
                "CellId" TEXT NOT NULL,
                "Index" INTEGER NOT NULL,
                "Body" BLOB NOT NULL,
                "Signature" BLOB NOT NULL,
                CONSTRAINT "PK_MembershipLog" PRIMARY KEY ("CellId", "Index"),
                CONSTRAINT "FK_MembershipLog_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE
            );

            CREATE TABLE "Invites" (
                "LookupId" BLOB NOT NULL CONSTRAINT "PK_Invites" PRIMARY KEY,
                "CellId" TEXT NOT NULL,
                "Grant" BLOB NOT NULL,
                "GrantSignature" BLOB NOT NULL,
                "SealedCellKey" BLOB NOT NULL,
                "ExpiresAt" INTEGER NOT NULL,
                "UsesLeft" INTEGER NOT NULL,
                CONSTRAINT "FK_Invites_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Invites_CellId" ON "Invites" ("CellId");
            CREATE INDEX "IX_Invites_ExpiresAt" ON "Invites" ("ExpiresAt");

            CREATE TABLE "AdmissionCandidates" (
                "LookupId" BLOB NOT NULL,
                "AccountId" TEXT NOT NULL,
                "CellId" TEXT NOT NULL,
                "ExpiresAt" INTEGER NOT NULL,
                CONSTRAINT "PK_AdmissionCandidates" PRIMARY KEY ("LookupId", "AccountId"),
                CONSTRAINT "FK_AdmissionCandidates_Accounts_AccountId" FOREIGN KEY ("AccountId") REFERENCES "Accounts" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_AdmissionCandidates_Invites_LookupId" FOREIGN KEY ("LookupId") REFERENCES "Invites" ("LookupId") ON DELETE CASCADE
            );
            CREATE INDEX "IX_AdmissionCandidates_AccountId" ON "AdmissionCandidates" ("AccountId");
            CREATE INDEX "IX_AdmissionCandidates_CellId" ON "AdmissionCandidates" ("CellId");

            CREATE TABLE "Vouches" (
                "LookupId" BLOB NOT NULL,
                "AccountId" TEXT NOT NULL,
                "VoucherAccountId" TEXT NOT NULL,
                "Signature" BLOB NOT NULL,
                CONSTRAINT "PK_Vouches" PRIMARY KEY ("LookupId", "AccountId", "VoucherAccountId"),
                CONSTRAINT "FK_Vouches_AdmissionCandidates_LookupId_AccountId" FOREIGN KEY ("LookupId", "AccountId") REFERENCES "AdmissionCandidates" ("LookupId", "AccountId") ON DELETE CASCADE
            );
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            DROP TABLE "Vouches";
            DROP TABLE "AdmissionCandidates";
            DROP TABLE "Invites";
            DROP TABLE "MembershipLog";
            DROP TABLE "Memberships";
            DROP TABLE "Cells";
            """);
    }
}
