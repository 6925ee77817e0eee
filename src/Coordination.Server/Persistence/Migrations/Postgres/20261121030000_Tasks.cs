using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Coordination.Server.Persistence.Migrations.Postgres;

/// <summary>
/// Tasks in cells, each membership's part in them, and memberships' opaque capability tags.
/// PostgreSQL's form of the SQLite migration of the same name (uuid, bytea, bigint, boolean).
/// Written by hand; <c>MigrationTests</c> checks it matches the EF model.
/// </summary>
[DbContext(typeof(PostgresCoordinationDbContext))]
[Migration("20261121030000_Tasks")]
public sealed class Tasks : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            CREATE TABLE "Tasks" (
                "Id" uuid NOT NULL,
                "CellId" uuid NOT NULL,
                "Risk" smallint NOT NULL,
                "RequiredTags" bytea NOT NULL,
                "PeopleNeeded" integer NOT NULL,
                "Deadline" bigint,
                "State" integer NOT NULL,
                "SealedContent" bytea NOT NULL,
                "ThreadId" uuid NOT NULL,
                "CreatedBy" uuid NOT NULL,
                CONSTRAINT "PK_Tasks" PRIMARY KEY ("Id"),
                CONSTRAINT "FK_Tasks_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_Tasks_Conversations_ThreadId" FOREIGN KEY ("ThreadId") REFERENCES "Conversations" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Tasks_CellId" ON "Tasks" ("CellId");
            CREATE INDEX "IX_Tasks_ThreadId" ON "Tasks" ("ThreadId");

            CREATE TABLE "TaskAssignments" (
                "TaskId" uuid NOT NULL,
                "MembershipId" uuid NOT NULL,
                "State" integer NOT NULL,
                "OfferExpiresAt" bigint,
                "SealedForAssignee" bytea,
                "ChangedAt" bigint NOT NULL,
                CONSTRAINT "PK_TaskAssignments" PRIMARY KEY ("TaskId", "MembershipId"),
                CONSTRAINT "FK_TaskAssignments_Tasks_TaskId" FOREIGN KEY ("TaskId") REFERENCES "Tasks" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_TaskAssignments_MembershipId" ON "TaskAssignments" ("MembershipId");
            CREATE INDEX "IX_TaskAssignments_State_OfferExpiresAt" ON "TaskAssignments" ("State", "OfferExpiresAt");

            CREATE TABLE "MembershipTags" (
                "MembershipId" uuid NOT NULL,
                "Tag" bytea NOT NULL,
                CONSTRAINT "PK_MembershipTags" PRIMARY KEY ("MembershipId", "Tag"),
                CONSTRAINT "FK_MembershipTags_Memberships_MembershipId" FOREIGN KEY ("MembershipId") REFERENCES "Memberships" ("Id") ON DELETE CASCADE
            );
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            DROP TABLE "MembershipTags";
            DROP TABLE "TaskAssignments";
            DROP TABLE "Tasks";
            """);
    }
}
