using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Coordination.Server.Persistence.Migrations.Sqlite;

/// <summary>Tasks in cells, each membership's part in them, and memberships' opaque capability tags.</summary>
[DbContext(typeof(SqliteCoordinationDbContext))]
[Migration("20261121030000_Tasks")]
public sealed class Tasks : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            CREATE TABLE "Tasks" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_Tasks" PRIMARY KEY,
                "CellId" TEXT NOT NULL,
                "Risk" INTEGER NOT NULL,
                "RequiredTags" BLOB NOT NULL,
                "PeopleNeeded" INTEGER NOT NULL,
                "Deadline" INTEGER NULL,
                "State" INTEGER NOT NULL,
                "SealedContent" BLOB NOT NULL,
                "ThreadId" TEXT NOT NULL,
                "CreatedBy" TEXT NOT NULL,
                CONSTRAINT "FK_Tasks_Cells_CellId" FOREIGN KEY ("CellId") REFERENCES "Cells" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_Tasks_Conversations_ThreadId" FOREIGN KEY ("ThreadId") REFERENCES "Conversations" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Tasks_CellId" ON "Tasks" ("CellId");
            CREATE INDEX "IX_Tasks_ThreadId" ON "Tasks" ("ThreadId");

            CREATE TABLE "TaskAssignments" (
                "TaskId" TEXT NOT NULL,
                "MembershipId" TEXT NOT NULL,
                "State" INTEGER NOT NULL,
                "OfferExpiresAt" INTEGER NULL,
                "SealedForAssignee" BLOB NULL,
                "ChangedAt" INTEGER NOT NULL,
                CONSTRAINT "PK_TaskAssignments" PRIMARY KEY ("TaskId", "MembershipId"),
                CONSTRAINT "FK_TaskAssignments_Tasks_TaskId" FOREIGN KEY ("TaskId") REFERENCES "Tasks" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_TaskAssignments_MembershipId" ON "TaskAssignments" ("MembershipId");
            CREATE INDEX "IX_TaskAssignments_State_OfferExpiresAt" ON "TaskAssignments" ("State", "OfferExpiresAt");

            CREATE TABLE "MembershipTags" (
                "MembershipId" TEXT NOT NULL,
                "Tag" BLOB NOT NULL,
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
