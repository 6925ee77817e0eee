using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Coordination.Server.Persistence.Migrations.Postgres;

/// <summary>
/// Cells and GRAS groups: the cell (sealed profile, log head), current memberships, the signed
/// membership log, invites (by lookup id), admission candidates and their vouches.
/// PostgreSQL's form of the SQLite migration of the same name (uuid, bytea, bigint, boolean).
/// Written by hand; <c>MigrationTests</c> checks it matches the EF model.
/// </summary>
[DbContext(typeof(PostgresCoordinationDbContext))]
[Migration("20261121010000_Cells")]
public sealed class Cells : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            CREATE TABLE "Cells" (
                "Id" uuid NOT NULL,
                "Kind" integer NOT NULL,
                "AnnouncementsId" uuid,
                "SealedProfile" bytea NOT NULL,
                "EndsAt" bigint,
                "LogLength" bigint NOT NULL,
                "LogHead" bytea NOT NULL,
                CONSTRAINT "PK_Cells" PRIMARY KEY ("Id"),
                CONSTRAINT "FK_Cells_Conversations_Id" FOREIGN KEY ("Id") REFERENCES "Conversations" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Cells_EndsAt" ON "Cells" ("EndsAt");

            CREATE TABLE "Memberships" (
                "Id" uuid NOT NULL,
                "CellId" uuid NOT NULL,
                "AccountId" uuid NOT NULL,
                "Role" smallint NOT NULL,
                "Ceiling" smallint NOT NULL,
                "SealedDisplayName" bytea,
                CONSTRAINT "PK_Memberships" PRIMARY KEY ("Id"),
                CONSTRAINT "FK_Memberships_Accounts_AccountId" FOREIGN KEY ("AccountId") REFERENCES "Accounts" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_Memberships_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Memberships_AccountId" ON "Memberships" ("AccountId");
            CREATE UNIQUE INDEX "IX_Memberships_CellId_AccountId" ON "Memberships" ("CellId", "AccountId");

            CREATE TABLE "MembershipLog" (
                "CellId" uuid NOT NULL,
                "Index" bigint NOT NULL,
                "Body" bytea NOT NULL,
                "Signature" bytea NOT NULL,
                CONSTRAINT "PK_MembershipLog" PRIMARY KEY ("CellId", "Index"),
                CONSTRAINT "FK_MembershipLog_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE
            );

            CREATE TABLE "Invites" (
                "LookupId" bytea NOT NULL,
                "CellId" uuid NOT NULL,
                "Grant" bytea NOT NULL,
                "GrantSignature" bytea NOT NULL,
                "SealedCellKey" bytea NOT NULL,
                "ExpiresAt" bigint NOT NULL,
                "UsesLeft" integer NOT NULL,
                CONSTRAINT "PK_Invites" PRIMARY KEY ("LookupId"),
                CONSTRAINT "FK_Invites_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Invites_CellId" ON "Invites" ("CellId");
            CREATE INDEX "IX_Invites_ExpiresAt" ON "Invites" ("ExpiresAt");

            CREATE TABLE "AdmissionCandidates" (
                "LookupId" bytea NOT NULL,
                "AccountId" uuid NOT NULL,
                "CellId" uuid NOT NULL,
                "ExpiresAt" bigint NOT NULL,
                CONSTRAINT "PK_AdmissionCandidates" PRIMARY KEY ("LookupId", "AccountId"),
                CONSTRAINT "FK_AdmissionCandidates_Accounts_AccountId" FOREIGN KEY ("AccountId") REFERENCES "Accounts" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_AdmissionCandidates_Invites_LookupId" FOREIGN KEY ("LookupId") REFERENCES "Invites" ("LookupId") ON DELETE CASCADE
            );
            CREATE INDEX "IX_AdmissionCandidates_AccountId" ON "AdmissionCandidates" ("AccountId");
            CREATE INDEX "IX_AdmissionCandidates_CellId" ON "AdmissionCandidates" ("CellId");

            CREATE TABLE "Vouches" (
                "LookupId" bytea NOT NULL,
                "AccountId" uuid NOT NULL,
                "VoucherAccountId" uuid NOT NULL,
                "Signature" bytea NOT NULL,
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
