#!/usr/bin/env bash
# A walk-through of Coordination on this machine, in well under a minute:
#   - starts a relay on a free loopback port, with its database in a temporary directory;
#   - creates three accounts with the coord CLI: Anna (abroad), Boris and Vera (inside);
#   - sends end-to-end encrypted messages while the recipients are offline, and one that
#     arrives live on a connected device;
#   - shows, side by side, what the relay stored (its SQLite tables, the ciphertext, a search of
#     its files for the plaintext) and what the recipients read.
#
# Usage: ./demo.sh [--keep]
#   --keep   leave the relay running and keep the temporary directory (database, log, profiles),
#            and print where they are. Otherwise both are removed on exit.
#
# Needs the .NET SDK 10, libsodium and python3 or jq; uses sqlite3 if installed (python3's
# sqlite3 module otherwise). Builds the server and the CLI (Release) if they are missing or older
# than their sources.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
. scripts/prerequisites.sh

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$arg' (see ./demo.sh --help)" ;;
  esac
done

require_dotnet
require_libsodium
command -v timeout >/dev/null 2>&1 || die "the 'timeout' command (GNU coreutils) is needed."
command -v python3 >/dev/null 2>&1 || command -v jq >/dev/null 2>&1 \
  || die "python3 or jq is needed to read the CLI's JSON output (Debian: sudo apt-get install -y jq)."

root="$PWD"
server_bin="$root/src/Coordination.Server/bin/Release/net10.0"
cli_bin="$root/src/Coordination.Cli/bin/Release/net10.0"

# ---------------------------------------------------------------------------------------------
# Output helpers

heading() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }
if [ ! -t 1 ] || [ -n "${NO_COLOR:-}" ]; then
  heading() { printf '\n== %s ==\n' "$*"; }
fi
say() { printf '%s\n' "$*"; }
indent() { sed 's/^/    /'; }

# Aligns tab-separated columns (first line: header) and indents them. Plain awk: no column(1) needed.
table() {
  awk -F '\t' '
    { rows[NR] = $0; for (i = 1; i <= NF; i++) if (length($i) > w[i]) w[i] = length($i); if (NF > n) n = NF }
    END {
      if (NR == 0) { print "    (no rows)"; exit }
      for (r = 1; r <= NR; r++) {
        split(rows[r], f, "\t"); line = "    "
        for (i = 1; i <= n; i++) line = line sprintf(i < n ? "%-" w[i] "s  " : "%s", f[i])
        print line
        if (r == 1) { line = "    "; for (i = 1; i <= n; i++) { s = sprintf("%" w[i] "s", ""); gsub(/ /, "-", s); line = line s (i < n ? "  " : "") } print line }
      }
    }'
}

# json_get FIELD: prints one top-level field of the JSON object on standard input.
json_get() {
  if command -v jq >/dev/null 2>&1; then
    jq -r --arg k "$1" '.[$k]'
  else
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
  fi
}

# json_messages READER: the messages of a `coord read --json` result on standard input, as
# "messageId<TAB>reader<TAB>text" lines.
json_messages() {
  if command -v jq >/dev/null 2>&1; then
    jq -r --arg r "$1" '.messages[] | select(.outgoing | not) | [.messageId, $r, (.text // ("(could not be read: " + .failure + ")"))] | @tsv'
  else
    python3 -c '
import json, sys
for m in json.load(sys.stdin)["messages"]:
    if not m["outgoing"]:
        text = m["text"] if m["text"] is not None else "(could not be read: %s)" % m["failure"]
        print("\t".join([m["messageId"], sys.argv[1], text.replace("\t", " ").replace("\n", " ")]))
' "$1"
  fi
}

json_pretty() {
  if command -v jq >/dev/null 2>&1; then jq .; else python3 -m json.tool; fi
}

# ---------------------------------------------------------------------------------------------
# Build (Release) if needed: when a build output is missing, or a source of the project or of the
# projects it references is newer than the newest of its assemblies.

needs_build() {
  local bin="$1" main="$2" newest
  shift 2
  [ -f "$bin/$main" ] || return 0
  newest="$(ls -t "$bin"/Coordination.*.dll "$bin/$main" 2>/dev/null | head -n 1)"
  [ -n "$(find "$@" \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.json' \) \
    -not -path '*/bin/*' -not -path '*/obj/*' -newer "$newest" -print -quit)" ]
}

shared=(src/Coordination.Protocol src/Coordination.Crypto Directory.Build.props Directory.Packages.props global.json)
for project in Server Cli; do
  if [ "$project" = Server ]; then
    bin="$server_bin" main=Coordination.Server.dll sources=(src/Coordination.Server "${shared[@]}")
  else
    bin="$cli_bin" main=coord.dll sources=(src/Coordination.Cli src/Coordination.Client "${shared[@]}")
  fi
  if needs_build "$bin" "$main" "${sources[@]}"; then
    say "Building src/Coordination.$project (Release)..."
    build_log="$(mktemp)"
    if ! dotnet build "src/Coordination.$project" -c Release --nologo -v quiet >"$build_log" 2>&1; then
      cat "$build_log" >&2
      rm -f "$build_log"
      [ -f "$bin/$main" ] || die "building src/Coordination.$project failed; see the compiler output above."
      echo "warning: building src/Coordination.$project failed (see above); the demo runs the previous build, $bin/$main." >&2
    fi
    rm -f "$build_log"
  fi
done

# ---------------------------------------------------------------------------------------------
# A temporary directory for the relay's database and log and the three profiles; removed on exit
# (with the relay stopped) unless --keep.

tmp="$(mktemp -d "${TMPDIR:-/tmp}/coordination-demo.XXXXXX")"
data="$tmp/data"
db="$data/coordination.db"
log="$tmp/server.log"
profiles="$tmp/profiles"
server_pid=""
follow_pid=""
url=""

cleanup() {
  local status=$?
  if [ "$keep" = 1 ]; then
    printf '\nKept (--keep):\n'
    [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null \
      && printf '  relay      %s (pid %s; stop it with: kill %s)\n' "$url" "$server_pid" "$server_pid"
    printf '  database   %s\n  relay log  %s\n  profiles   %s/{anna,boris,vera}\n' "$db" "$log" "$profiles"
    printf "  try        COORD_PASSPHRASE='%s' %s/coord --profile %s read\n" "$COORD_PASSPHRASE" "$root" "$profiles/boris"
    printf '  remove     rm -rf %s\n' "$tmp"
    return "$status"
  fi
  if [ -n "${follow_pid:-}" ] && kill -0 "$follow_pid" 2>/dev/null; then
    kill "$follow_pid" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  return "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The CLI reads the profile passphrase from COORD_PASSPHRASE when it is set. Interactively it
# prompts for it on the terminal (or reads --passphrase-file); the variable keeps this demo
# hands-free. The profiles are still encrypted with it, using the "interactive" Argon2id cost
# (64 MiB, a fraction of a second) rather than the slower default, "moderate".
export COORD_PASSPHRASE="demo passphrase, not for real accounts"
export COORD_KDF="${COORD_KDF:-interactive}"

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
  else
    local port
    while :; do
      port=$((20000 + RANDOM % 40000))
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
  fi
}

# http_status URL: the HTTP status code of a GET, or 000 if nothing answers.
http_status() {
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true
  else
    local rest="${1#http://}" hostport path
    hostport="${rest%%/*}" path="/${rest#*/}"
    (
      exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || exit 0
      printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3
      timeout 2 head -n 1 <&3 | awk '{ print $2 }'
    ) 2>/dev/null || true
  fi
}

# ---------------------------------------------------------------------------------------------
heading "1. Start a relay"

# The port is free when chosen; if another process takes it first the relay exits, and the next
# attempt picks another one.
for attempt in 1 2 3; do
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  # From its output directory, so the relay reads its appsettings.json (as `dotnet run` does).
  (cd "$server_bin" && exec dotnet Coordination.Server.dll --urls "$url" --Storage:DataDirectory "$data") >"$log" 2>&1 &
  server_pid=$!
  status=000
  for _ in $(seq 1 60); do
    kill -0 "$server_pid" 2>/dev/null || break
    status="$(http_status "$url/healthz")"
    [ "$status" = 200 ] && break
    sleep 0.5
  done
  [ "$status" = 200 ] && break
  if kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    echo "The relay did not answer GET /healthz with 200 within 30 s. Its log:" >&2
    sed 's/^/  | /' "$log" >&2
    exit 1
  fi
  { wait "$server_pid"; } 2>/dev/null || true
  server_pid=""
  if [ "$attempt" = 3 ] || ! grep -q -i "address already in use" "$log"; then
    echo "The relay exited before answering GET /healthz. Its log:" >&2
    sed 's/^/  | /' "$log" >&2
    exit 1
  fi
done
say "Relay listening on $url (pid $server_pid); database in $data."
command -v curl >/dev/null 2>&1 && say "GET /healthz: $(curl -s --max-time 2 "$url/healthz")"

cli() { dotnet "$cli_bin/coord.dll" --server "$url" "$@"; }
as() { local who="$1"; shift; cli --profile "$profiles/$who" "$@"; }

# ---------------------------------------------------------------------------------------------
heading "2. Three people create accounts"

say "coord identity create --name NAME --json   (the name is a local label; it never reaches the relay)"
declare -A account device role
role[anna]="abroad" role[boris]="inside" role[vera]="inside"
rows=$'Who\tWhere\tAccount id\tDevice id'
for who in anna boris vera; do
  out="$(as "$who" identity create --name "${who^}" --json)"
  account[$who]="$(json_get accountId <<<"$out")"
  device[$who]="$(json_get deviceId <<<"$out")"
  rows+=$'\n'"${who^}"$'\t'"${role[$who]}"$'\t'"${account[$who]}"$'\t'"${device[$who]}"
done
table <<<"$rows"
say "Each profile ($profiles/NAME/profile.json) holds the device's private keys, encrypted with the passphrase."

# Shortens the ids in the relay's tables to 8 characters and names the known ones, for reading only:
# the relay itself stores only the ids.
label_ids() {
  local script="" who
  for who in anna boris vera; do
    script+="s/${account[$who]^^}/${account[$who]:0:8} (${who^})/g; s/${device[$who]^^}/${device[$who]:0:8} (${who^}'s device)/g; "
  done
  sed -E "$script"'s/\b([0-9A-F]{8})-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\b/\1/g'
}

# ---------------------------------------------------------------------------------------------
heading "3. Messages sent while the recipients are offline"

text1="Boris, the printing is paid for. Pick up the boxes on Thursday after 19:00."
text2="Vera, I land on the 14th. Same cafe as last time, 11:00?"
text3="Vera, Anna's boxes are at my place now. Come by before Friday."
text4="Boxes picked up, all fine here."
declare -A sent_by read_by

send_line() {
  local from="$1" to="$2" out="$3" id
  id="$(json_get messageId <<<"$out")"
  sent_by[$id]="${from^}"
  read_by[$id]="${to^}"
  printf '    %-6s -> %-6s seq %s, conversation %s, kept by the relay until %s at the latest\n' \
    "${from^}" "${to^}" "$(json_get seq <<<"$out")" "$(json_get conversationId <<<"$out" | cut -c1-8)" "$(json_get expiresAt <<<"$out" | cut -c1-16 | tr T ' ') UTC"
}

say "Anna:  coord send --to <Boris's account id> --text '...'"
send_line anna boris "$(as anna send --to "${account[boris]}" --text "$text1" --json)"
say "Anna:  echo '...' | coord send --to <Vera's account id>        (the text from standard input)"
send_line anna vera "$(printf '%s\n' "$text2" | as anna send --to "${account[vera]}" --json)"
say "Boris: coord send --to <Vera's account id> --ttl 1h --text '...'  (deleted after an hour even if unread)"
send_line boris vera "$(as boris send --to "${account[vera]}" --ttl 1h --text "$text3" --json)"

# ---------------------------------------------------------------------------------------------
# The relay's SQLite database, read-only, while the relay runs (it uses WAL mode, so the newest
# rows are in coordination.db-wal until a checkpoint; SQLite reads both).

if command -v sqlite3 >/dev/null 2>&1; then
  sql_tool="sqlite3"
  sql() { sqlite3 -readonly -header -separator $'\t' "$db" "$1"; }
elif command -v python3 >/dev/null 2>&1 && python3 -c 'import sqlite3' 2>/dev/null; then
  sql_tool="python3's sqlite3 module"
  sql() {
    python3 - "$db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
cur = db.execute(sys.argv[2])
rows = cur.fetchall()
if rows:
    print("\t".join(d[0] for d in cur.description))
    for row in rows:
        print("\t".join("" if v is None else str(v) for v in row))
PY
  }
else
  sql_tool=""
fi

# The sizes and first 32 bytes (as hex) of the envelopes the relay holds: "seq, conversation,
# message, bytes, expires, hex".
envelopes_sql='SELECT "Seq", lower("ConversationId") AS "Conversation", lower("MessageId") AS "Message",
  length("Ciphertext") AS "Bytes", datetime("ExpiresAt" / 1000, '"'unixepoch'"') AS "Expires (UTC)",
  lower(hex(substr("Ciphertext", 1, 32))) AS "Ciphertext" FROM "Envelopes" ORDER BY "Seq"'

show_envelopes() {
  local rows
  rows="$(sql "$envelopes_sql" | tail -n +2)"
  if [ -z "$rows" ]; then
    say "    (none)"
    return
  fi
  while IFS=$'\t' read -r seq conv msg bytes expires hex; do
    printf '    seq %-3s conversation %s  message %s  %s bytes  expires %s UTC\n' "$seq" "${conv:0:8}" "${msg:0:8}" "$bytes" "$expires"
    printf '            %s... (first 32 of %s bytes, hex)\n' "$hex" "$bytes"
  done <<<"$rows"
}

# The relay deletes acknowledged envelopes in a sweep that runs every second (Relay:SweepInterval):
# wait for it before looking.
settle() { sleep 1.5; }

# Searches the relay's files for each string; prints one line per string.
search_relay_files() {
  local files=("$db" "$db-wal" "$log") s found f
  for s in "$@"; do
    found=""
    for f in "${files[@]}"; do
      [ -f "$f" ] && grep -a -q -F -- "$s" "$f" && found+=" ${f##*/}"
    done
    if [ -n "$found" ]; then
      printf '    FOUND in%s: "%s"\n' "$found" "$s"
    else
      printf '    not found: "%s"\n' "$s"
    fi
  done
}

heading "4. What the relay stored (before anyone has read)"

if [ -z "$sql_tool" ]; then
  say "Neither sqlite3 nor python3 (with its sqlite3 module) is installed, so the database cannot be"
  say "shown here. Install one (Debian: sudo apt-get install -y sqlite3) and run the demo again."
else
  say "Read with $sql_tool from $db (ids shortened to 8 characters; names added for you, the relay has only ids)."
  say
  say "Tables and their rows:"
  tables="$(sql "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name" | tail -n +2)"
  counts="$(for t in $tables; do printf "SELECT '%s' AS \"Table\", count(*) AS \"Rows\" FROM \"%s\" UNION ALL " "$t" "$t"; done)"
  sql "${counts% UNION ALL }" | table
  say
  say "Who is in which conversation (ConversationParticipants):"
  sql 'SELECT "ConversationId" AS "Conversation", "AccountId" AS "Account" FROM "ConversationParticipants" ORDER BY 1, 2' | label_ids | table
  say
  say "Envelopes: all the relay has of a message. No sender, no recipient list, no text; every"
  say "envelope is padded to a fixed bucket size, so its size does not give away the text's length."
  show_envelopes
  # Kept for the side-by-side table in step 7: the recipients' reads below delete these rows.
  sql "$envelopes_sql" | tail -n +2 >"$tmp/envelopes.tsv"
fi
say
say "Searching the database, its WAL and the relay's log for the message texts and the names:"
search_relay_files "$text1" "$text2" "$text3" Anna Boris Vera
printf '    (A check that the search works: Boris'"'"'s account id, which the relay does store, is %s.)\n' \
  "$(grep -a -q -i -F -- "${account[boris]}" "$db" "$db-wal" && echo found || echo 'NOT found')"

# ---------------------------------------------------------------------------------------------
heading "5. What the recipients read"

say "Boris: coord read --from <Anna's account id>"
as boris read --from "${account[anna]}" | indent
say
say "Vera: coord read --from <Anna's account id>"
as vera read --from "${account[anna]}" | indent
say
say "Vera: coord read --from <Boris's account id>"
as vera read --from "${account[boris]}" | indent
say
say "Senders are shown by account id: Anna is ${account[anna]}, Boris ${account[boris]}."
say "Each device keeps its history itself, encrypted with its profile's key."

if [ -n "$sql_tool" ]; then
  say
  say "The relay deletes an envelope once every device in its conversation has fetched it, the"
  say "sender's own devices included (coord send fetches right after sending, so a sender's"
  say "device does not hold things up); --ttl, 7 days by default, bounds how long an unfetched one"
  say "stays. Still on the relay:"
  settle
  show_envelopes
fi

# ---------------------------------------------------------------------------------------------
heading "6. A message that arrives live"

say "Anna comes online: coord read --from <Boris's account id> --follow --count 1 --json"
# Bounded: --count 1 ends it after one message, timeout after 30 s if none comes.
timeout 30 dotnet "$cli_bin/coord.dll" --server "$url" --profile "$profiles/anna" \
  read --from "${account[boris]}" --follow --count 1 --json >"$tmp/live.jsonl" 2>"$tmp/live.err" &
follow_pid=$!
# The follower unlocks the profile, logs in, connects and fetches what is waiting; give it a
# moment so that the message below is pushed to a connected device. (Were it slower, it would
# still fetch the message right after connecting.)
sleep 3
say "Boris: coord send --to <Anna's account id> --text '...'"
send_line boris anna "$(as boris send --to "${account[anna]}" --text "$text4" --json)"
follow_status=0
wait "$follow_pid" || follow_status=$?
if [ "$follow_status" != 0 ] || [ ! -s "$tmp/live.jsonl" ]; then
  if [ "$follow_status" = 124 ]; then
    echo "Anna's device received nothing within 30 s." >&2
  else
    echo "The live read failed (exit status $follow_status):" >&2
  fi
  sed 's/^/  | /' "$tmp/live.err" >&2
  exit 1
fi
say "Anna's terminal printed, as it arrived (with --json, one JSON object per message):"
json_pretty <"$tmp/live.jsonl" | indent
if [ -n "$sql_tool" ]; then
  say
  say "Still on the relay (both devices of the conversation have it, so nothing should be left):"
  settle
  show_envelopes
  sql "$envelopes_sql" | tail -n +2 >>"$tmp/envelopes.tsv"
fi

# ---------------------------------------------------------------------------------------------
heading "7. After delivery"

say "Boris checks his messages: coord read --from <Anna's account id>"
as boris read --from "${account[anna]}" | indent
if [ -n "$sql_tool" ]; then
  say
  say "Envelopes still on the relay:"
  settle
  show_envelopes
  say
  say "Deleted means gone from the files too: SQLite's secure_delete zeroes the freed space, and the"
  say "relay then checkpoints and truncates the WAL ($(wc -c <"$db-wal" 2>/dev/null || echo 0) bytes now). The first 32 bytes of each"
  say "envelope shown above, searched for in coordination.db and coordination.db-wal:"
  hexdump_db="$(cat "$db" "$db-wal" 2>/dev/null | od -An -v -tx1 | tr -d ' \n')"
  while IFS=$'\t' read -r seq _ _ _ _ hex; do
    case "$hexdump_db" in
      *"$hex"*) printf '    seq %-3s %s...  FOUND\n' "$seq" "${hex:0:24}" ;;
      *) printf '    seq %-3s %s...  not found\n' "$seq" "${hex:0:24}" ;;
    esac
  done < <(sort -u -n "$tmp/envelopes.tsv")
  key="$(sql 'SELECT lower(hex(substr("PublicKey", 1, 12))) AS k FROM "Accounts" LIMIT 1' | tail -n 1)"
  case "$hexdump_db" in *"$key"*) found=found ;; *) found="NOT found" ;; esac
  say "    (A check that the search works: the first bytes of an account's public key, which the"
  say "     relay keeps, are $found.)"
  say
  say "What is left in the database: accounts and devices (public keys), conversations and their"
  say "members, delivery cursors, send receipts (a message id and seq, kept until the envelope's"
  say "expiry so that a resent message is not stored twice), and login sessions until they expire:"
  sql "${counts% UNION ALL }" | awk -F '\t' 'NR == 1 || $2 > 0' | table
fi

# ---------------------------------------------------------------------------------------------
heading "8. Side by side: what the relay stored, what the recipients read"

# The decrypted texts, from each device's own history (coord read --json).
{
  as boris read --from "${account[anna]}" --json | json_messages Boris
  as vera read --from "${account[anna]}" --json | json_messages Vera
  as vera read --from "${account[boris]}" --json | json_messages Vera
  as anna read --from "${account[boris]}" --json | json_messages Anna
} >"$tmp/read.tsv"

if [ -z "$sql_tool" ]; then
  say "(The relay's side needs sqlite3 or python3; here is what the recipients read.)"
  cut -f 2,3 "$tmp/read.tsv" | sed 's/\t/ read: /' | indent
else
  for id in "${!sent_by[@]}"; do printf '%s\t%s\n' "$id" "${sent_by[$id]} -> ${read_by[$id]}"; done >"$tmp/sent.tsv"
  awk -F '\t' '
    FILENAME == ARGV[1] { who[$1] = $2; next }
    FILENAME == ARGV[2] { text[$1] = $3; next }
    !($1 in seen) {
      seen[$1] = 1
      t = ($3 in text) ? text[$3] : "(not read)"
      if (length(t) > 50) t = substr(t, 1, 47) "..."
      printf "%s\t%s\t%s bytes: %s...\t%s\n", $1, who[$3], $4, substr($6, 1, 24), t
    }' "$tmp/sent.tsv" "$tmp/read.tsv" "$tmp/envelopes.tsv" \
    | sort -n | { printf 'Seq\tFrom -> to\tThe relay stored (hex)\tThe recipient read\n'; cat; } | table
fi
say
say "Searching the relay's database, WAL and log once more, and the three profile directories"
say "(keys and message history), for every message text:"
for s in "$text1" "$text2" "$text3" "$text4"; do
  found=""
  for f in "$db" "$db-wal" "$log"; do
    [ -f "$f" ] && grep -a -q -F -- "$s" "$f" && found+=" ${f##*/}"
  done
  grep -a -q -r -F -- "$s" "$profiles" && found+=" profiles"
  if [ -n "$found" ]; then printf '    FOUND in%s: "%s"\n' "$found" "$s"; else printf '    not found: "%s"\n' "$s"; fi
done

heading "Done"
say "The relay held only padded ciphertext, and only until every device had fetched it; the texts"
say "were readable only on the devices that wrote and read them."
