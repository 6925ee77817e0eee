using System.Text.RegularExpressions;

namespace Coordination.Server.Tests.Privacy;

/// <summary>
/// A metadata audit of the live database schema (SQLite, or PostgreSQL in that pass): every column
/// of every table is on an allow-list that says what kind of value it holds and why the relay needs
/// it. The test fails on a column that is not on the list (a new column must be classified here and
/// in threat-model.md §6.1), on any text column other than a SQLite id, on a column whose name
/// suggests an address, agent or personal detail unless it is listed as ciphertext, and on a
/// stored type that does not fit its kind.
/// </summary>
public sealed partial class SchemaAuditTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private enum Kind
    {
        /// <summary>A random id (Guid).</summary>
        Id,

        /// <summary>A count, sequence number, epoch, ceiling, state or time in Unix ms.</summary>
        Number,

        /// <summary>A yes/no flag.</summary>
        Flag,

        /// <summary>A public key or a signature: public by design.</summary>
        PublicBytes,

        /// <summary>A hash or a lookup id derived from a secret the relay never sees.</summary>
        Digest,

        /// <summary>Ciphertext under a key the relay does not hold (or a sealed box).</summary>
        Ciphertext,

        /// <summary>Signed bytes of the membership log: ids, keys, roles and ceilings in a fixed layout (docs/protocol.md §8).</summary>
        SignedStatement,
    }

    private static readonly Dictionary<string, Kind> s_allowed = new(StringComparer.Ordinal)
    {
        ["Accounts.Id"] = Kind.Id,
        ["Accounts.PublicKey"] = Kind.PublicBytes,
        ["AdmissionCandidates.LookupId"] = Kind.Digest,
        ["AdmissionCandidates.AccountId"] = Kind.Id,
        ["AdmissionCandidates.CellId"] = Kind.Id,
        ["AdmissionCandidates.ExpiresAt"] = Kind.Number,
        ["Cells.Id"] = Kind.Id,
        ["Cells.AnnouncementsId"] = Kind.Id,
        ["Cells.EndsAt"] = Kind.Number,
        ["Cells.Kind"] = Kind.Number,
        ["Cells.LogHead"] = Kind.Digest,
        ["Cells.LogLength"] = Kind.Number,
        ["Cells.SealedProfile"] = Kind.Ciphertext,
        ["ConversationParticipants.ConversationId"] = Kind.Id,
        ["ConversationParticipants.AccountId"] = Kind.Id,
        ["Conversations.Id"] = Kind.Id,
        ["Conversations.DirectPairKey"] = Kind.Digest,
        ["Conversations.Epoch"] = Kind.Number,
        ["Conversations.Kind"] = Kind.Number,
        ["DeliveryCursors.DeviceId"] = Kind.Id,
        ["DeliveryCursors.ConversationId"] = Kind.Id,
        ["DeliveryCursors.AckedSeq"] = Kind.Number,
        ["Devices.Id"] = Kind.Id,
        ["Devices.AccountId"] = Kind.Id,
        ["Devices.AccountSignature"] = Kind.PublicBytes,
        ["Devices.AgreementPublicKey"] = Kind.PublicBytes,
        ["Devices.Revoked"] = Kind.Flag,
        ["Devices.SigningPublicKey"] = Kind.PublicBytes,
        ["Envelopes.Seq"] = Kind.Number,
        ["Envelopes.Ciphertext"] = Kind.Ciphertext,
        ["Envelopes.ConversationId"] = Kind.Id,
        ["Envelopes.ExpiresAt"] = Kind.Number,
        ["Envelopes.MessageId"] = Kind.Id,
        ["EventRsvps.EventId"] = Kind.Id,
        ["EventRsvps.MembershipId"] = Kind.Id,
        ["EventRsvps.SealedAnswer"] = Kind.Ciphertext,
        ["GroupEvents.Id"] = Kind.Id,
        ["GroupEvents.Cancelled"] = Kind.Flag,
        ["GroupEvents.CellId"] = Kind.Id,
        ["GroupEvents.CreatorMembershipId"] = Kind.Id,
        ["GroupEvents.SealedDetails"] = Kind.Ciphertext,
        ["IntakeReplies.Id"] = Kind.Id,
        ["IntakeReplies.ExpiresAt"] = Kind.Number,
        ["IntakeReplies.ReportId"] = Kind.Id,
        ["IntakeReplies.Sealed"] = Kind.Ciphertext,
        ["IntakeReports.Id"] = Kind.Id,
        ["IntakeReports.ExpiresAt"] = Kind.Number,
        ["IntakeReports.IntakeId"] = Kind.Id,
        ["IntakeReports.ReceiptLookupId"] = Kind.Digest,
        ["IntakeReports.ReceivedOn"] = Kind.Number,
        ["IntakeReports.SealedReport"] = Kind.Ciphertext,
        ["IntakeReports.State"] = Kind.Number,
        ["Intakes.Id"] = Kind.Id,
        ["Intakes.CellId"] = Kind.Id,
        ["Intakes.PowDifficulty"] = Kind.Number,
        ["Intakes.PublicKey"] = Kind.PublicBytes,
        ["Intakes.RetentionDays"] = Kind.Number,
        ["Intakes.SealedPrivateKey"] = Kind.Ciphertext,
        ["Invites.LookupId"] = Kind.Digest,
        ["Invites.CellId"] = Kind.Id,
        ["Invites.ExpiresAt"] = Kind.Number,
        ["Invites.Grant"] = Kind.SignedStatement,
        ["Invites.GrantSignature"] = Kind.PublicBytes,
        ["Invites.SealedCellKey"] = Kind.Ciphertext,
        ["Invites.UsesLeft"] = Kind.Number,
        ["LinkCodes.LookupId"] = Kind.Digest,
        ["LinkCodes.AccountId"] = Kind.Id,
        ["LinkCodes.ExpiresAt"] = Kind.Number,
        ["LinkCodes.Payload"] = Kind.Ciphertext,
        ["MembershipLog.CellId"] = Kind.Id,
        ["MembershipLog.Index"] = Kind.Number,
        ["MembershipLog.Body"] = Kind.SignedStatement,
        ["MembershipLog.Signature"] = Kind.PublicBytes,
        ["Memberships.Id"] = Kind.Id,
        ["Memberships.AccountId"] = Kind.Id,
        ["Memberships.Ceiling"] = Kind.Number,
        ["Memberships.CellId"] = Kind.Id,
        ["Memberships.Role"] = Kind.Number,
        ["Memberships.SealedDisplayName"] = Kind.Ciphertext,
        ["MembershipTags.MembershipId"] = Kind.Id,
        ["MembershipTags.Tag"] = Kind.Digest,
        ["SendReceipts.ConversationId"] = Kind.Id,
        ["SendReceipts.MessageId"] = Kind.Id,
        ["SendReceipts.EnvelopeExpiresAt"] = Kind.Number,
        ["SendReceipts.ExpiresAt"] = Kind.Number,
        ["SendReceipts.Seq"] = Kind.Number,
        ["Sessions.TokenHash"] = Kind.Digest,
        ["Sessions.DeviceId"] = Kind.Id,
        ["Sessions.ExpiresAt"] = Kind.Number,
        ["TaskAssignments.TaskId"] = Kind.Id,
        ["TaskAssignments.MembershipId"] = Kind.Id,
        ["TaskAssignments.ChangedAt"] = Kind.Number,
        ["TaskAssignments.OfferExpiresAt"] = Kind.Number,
        ["TaskAssignments.SealedForAssignee"] = Kind.Ciphertext,
        ["TaskAssignments.State"] = Kind.Number,
        ["Tasks.Id"] = Kind.Id,
        ["Tasks.CellId"] = Kind.Id,
        ["Tasks.CreatedBy"] = Kind.Id,
        ["Tasks.Deadline"] = Kind.Number,
        ["Tasks.PeopleNeeded"] = Kind.Number,
        ["Tasks.RequiredTags"] = Kind.Digest,
        ["Tasks.Risk"] = Kind.Number,
        ["Tasks.SealedContent"] = Kind.Ciphertext,
        ["Tasks.State"] = Kind.Number,
        ["Tasks.ThreadId"] = Kind.Id,
        ["Vouches.LookupId"] = Kind.Digest,
        ["Vouches.AccountId"] = Kind.Id,
        ["Vouches.VoucherAccountId"] = Kind.Id,
        ["Vouches.Signature"] = Kind.PublicBytes,
    };

    [Fact]
    public void Every_column_is_classified_and_none_can_hold_an_address_an_agent_or_free_text()
    {
        _ = relay.ServerAddress;
        List<(string Table, string Column, string Type)> columns = RelayFactory.OnPostgres
            ? [.. relay.Query("""
                SELECT table_name, column_name, data_type FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name NOT LIKE '\_\_EF%'
                """).Select(r => ((string)r[0]!, (string)r[1]!, ((string)r[2]!).ToUpperInvariant()))]
            : [.. relay.Query("""
                SELECT m.name, p.name, upper(p.type) FROM sqlite_master m, pragma_table_info(m.name) p
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name NOT LIKE '\_\_EF%' ESCAPE '\'
                """).Select(r => ((string)r[0]!, (string)r[1]!, (string)r[2]!))];

        List<string> problems = [];
        foreach ((string table, string column, string type) in columns)
        {
            string name = $"{table}.{column}";
            if (!s_allowed.TryGetValue(name, out Kind kind))
            {
                problems.Add($"{name} ({type}) is not on the allow-list: classify it here and in threat-model.md §6.1");
                continue;
            }

            if (Words().Matches(column).Any(w => s_identifying.Contains(w.Value)) && kind != Kind.Ciphertext)
            {
                problems.Add($"{name}: the name suggests an address, agent or personal detail, and it is not ciphertext");
            }

            if (!Fits(kind, type))
            {
                problems.Add($"{name}: a {kind} column stored as {type}");
            }
        }

        HashSet<string> present = [.. columns.Select(c => $"{c.Table}.{c.Column}")];
        problems.AddRange(s_allowed.Keys.Where(k => !present.Contains(k)).Select(k => $"{k} is on the allow-list but not in the database"));
        Assert.True(columns.Count > 50, $"only {columns.Count} columns were read");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>
    /// Text is where free-text plaintext, addresses and agents would go: only ids may be text, and
    /// only on SQLite (which stores Guids as text); every byte column is a key, digest or ciphertext.
    /// </summary>
    private static bool Fits(Kind kind, string type) => kind switch
    {
        Kind.Id => type is "TEXT" or "UUID",
        Kind.Number => type is "INTEGER" or "BIGINT" or "SMALLINT",
        Kind.Flag => type is "INTEGER" or "BOOLEAN",
        _ => type is "BLOB" or "BYTEA",
    };

    /// <summary>Words of a column name that suggest an address, an agent or a personal detail.</summary>
    private static readonly HashSet<string> s_identifying = new(StringComparer.OrdinalIgnoreCase)
    {
        "Ip", "Address", "Addr", "Agent", "Host", "Email", "Mail", "Phone", "Name", "User", "Location",
        "Country", "City", "Region", "Lat", "Latitude", "Lon", "Longitude", "Geo", "Browser", "Platform", "Os",
    };

    /// <summary>The words of a PascalCase name ("SealedDisplayName": Sealed, Display, Name).</summary>
    [GeneratedRegex("[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[a-z0-9]+")]
    private static partial Regex Words();
}
