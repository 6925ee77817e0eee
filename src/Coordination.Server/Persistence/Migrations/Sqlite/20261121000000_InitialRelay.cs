using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Coordination.Server.Persistence.Migrations.Sqlite;

/// <summary>
/// Accounts, devices, sessions, link codes, conversations, envelopes, send receipts and delivery
/// cursors. Written by hand; <c>MigrationTests</c> checks it matches the EF model.
/// </summary>
[DbContext(typeof(SqliteCoordinationDbContext))]
[Migration("20261121000000_InitialRelay")]
public sealed class InitialRelay : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            CREATE TABLE "Accounts" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_Accounts" PRIMARY KEY,
                "PublicKey" BLOB NOT NULL
            );
            CREATE UNIQUE INDEX "IX_Accounts_PublicKey" ON "Accounts" ("PublicKey");

            CREATE TABLE "Devices" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_Devices" PRIMARY KEY,
                "AccountId" TEXT NOT NULL,
                "SigningPublicKey" BLOB NOT NULL,
                "AgreementPublicKey" BLOB NOT NULL,
                "AccountSignature" BLOB NOT NULL,
                "Revoked" INTEGER NOT NULL,
                CONSTRAINT "FK_Devices_Accounts_AccountId" FOREIGN KEY ("AccountId") REFERENCES "Accounts" ("Id") ON DELETE CASCADE
            );
            CREATE UNIQUE INDEX "IX_Devices_SigningPublicKey" ON "Devices" ("SigningPublicKey");
            CREATE INDEX "IX_Devices_AccountId" ON "Devices" ("AccountId");

            CREATE TABLE "LinkCodes" (
                "LookupId" BLOB NOT NULL CONSTRAINT "PK_LinkCodes" PRIMARY KEY,
                "AccountId" TEXT NOT NULL,
                "Payload" BLOB NOT NULL,
                "ExpiresAt" INTEGER NOT NULL,
                CONSTRAINT "FK_LinkCodes_Accounts_AccountId" FOREIGN KEY ("AccountId") REFERENCES "Accounts" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_LinkCodes_AccountId" ON "LinkCodes" ("AccountId");
            CREATE INDEX "IX_LinkCodes_ExpiresAt" ON "LinkCodes" ("ExpiresAt");

            CREATE TABLE "Sessions" (
                "TokenHash" BLOB NOT NULL CONSTRAINT "PK_Sessions" PRIMARY KEY,
                "DeviceId" TEXT NOT NULL,
                "ExpiresAt" INTEGER NOT NULL,
                CONSTRAINT "FK_Sessions_Devices_DeviceId" FOREIGN KEY ("DeviceId") REFERENCES "Devices" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Sessions_DeviceId" ON "Sessions" ("DeviceId");
            CREATE INDEX "IX_Sessions_ExpiresAt" ON "Sessions" ("ExpiresAt");

            CREATE TABLE "Conversations" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_Conversations" PRIMARY KEY,
                "Kind" INTEGER NOT NULL,
                "Epoch" INTEGER NOT NULL,
                "DirectPairKey" BLOB NULL
            );
            CREATE UNIQUE INDEX "IX_Conversations_DirectPairKey" ON "Conversations" ("DirectPairKey");

            CREATE TABLE "ConversationParticipants" (
                "ConversationId" TEXT NOT NULL,
                "AccountId" TEXT NOT NULL,
                CONSTRAINT "PK_ConversationParticipants" PRIMARY KEY ("ConversationId", "AccountId"),
                CONSTRAINT "FK_ConversationParticipants_Accounts_AccountId" FOREIGN KEY ("AccountId") REFERENCES "Accounts" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_ConversationParticipants_Conversations_ConversationId" FOREIGN KEY ("ConversationId") REFERENCES "Conversations" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_ConversationParticipants_AccountId" ON "ConversationParticipants" ("AccountId");

            CREATE TABLE "Envelopes" (
                "Seq" INTEGER NOT NULL CONSTRAINT "PK_Envelopes" PRIMARY KEY AUTOINCREMENT,
                "ConversationId" TEXT NOT NULL,
                "MessageId" TEXT NOT NULL,
                "Ciphertext" BLOB NOT NULL,
                "ExpiresAt" INTEGER NOT NULL,
                CONSTRAINT "FK_Envelopes_Conversations_ConversationId" FOREIGN KEY ("ConversationId") REFERENCES "Conversations" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_Envelopes_ConversationId_Seq" ON "Envelopes" ("ConversationId", "Seq");
            CREATE INDEX "IX_Envelopes_ExpiresAt" ON "Envelopes" ("ExpiresAt");

            CREATE TABLE "SendReceipts" (
                "ConversationId" TEXT NOT NULL,
                "MessageId" TEXT NOT NULL,
                "Seq" INTEGER NOT NULL,
                "EnvelopeExpiresAt" INTEGER NOT NULL,
                "ExpiresAt" INTEGER NOT NULL,
                CONSTRAINT "PK_SendReceipts" PRIMARY KEY ("ConversationId", "MessageId")
            );
            CREATE INDEX "IX_SendReceipts_ExpiresAt" ON "SendReceipts" ("ExpiresAt");

            CREATE TABLE "DeliveryCursors" (
                "DeviceId" TEXT NOT NULL,
                "ConversationId" TEXT NOT NULL,
                "AckedSeq" INTEGER NOT NULL,
                CONSTRAINT "PK_DeliveryCursors" PRIMARY KEY ("DeviceId", "ConversationId"),
                CONSTRAINT "FK_DeliveryCursors_Conversations_ConversationId" FOREIGN KEY ("ConversationId") REFERENCES "Conversations" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_DeliveryCursors_Devices_DeviceId" FOREIGN KEY ("DeviceId") REFERENCES "Devices" ("Id") ON DELETE CASCADE
            );
            CREATE INDEX "IX_DeliveryCursors_ConversationId" ON "DeliveryCursors" ("ConversationId");
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            DROP TABLE "DeliveryCursors";
            DROP TABLE "SendReceipts";
            DROP TABLE "Envelopes";
            DROP TABLE "ConversationParticipants";
            DROP TABLE "Conversations";
            DROP TABLE "Sessions";
            DROP TABLE "LinkCodes";
            DROP TABLE "Devices";
            DROP TABLE "Accounts";
            """);
    }
}
