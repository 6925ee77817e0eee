#!/usr/bin/env bash
# A walk-through of Coordination on this machine, in about a minute:
#   - starts a relay on a free loopback port, with its database in a temporary directory;
#   - creates three accounts with the coord CLI: Anna (abroad), Boris and Vera (inside);
#   - sends end-to-end encrypted messages while the recipients are offline, and one that
#     arrives live on a connected device;
#   - shows, side by side, what the relay stored (its SQLite tables, the ciphertext, a search of
#     its files for the plaintext) and what the recipients read;
#   - loads two cells and their members from seeds/network.json (accounts, invites, joins,
#     capability tags), shows that neither cell can see the other, and what the relay stores;
#   - routes tasks by risk: a critical task to a member abroad, a low-risk in-country task to a
#     member inside, and the relay refusing both the other way round;
#   - opens an intake for a cell: an anonymous report, the team's inbox, a reply the reporter
#     reads with the receipt alone, and none of it readable in the relay's files.
#
# Usage: ./demo.sh [--keep]
#   --keep   leave the relay running and keep the temporary directory (database, log, profiles),
#            and print where they are. Otherwise both are removed on exit.
#
# Needs the .NET SDK 10, libsodium and python3 or jq; uses sqlite3 if installed (python3's
# sqlite3 module otherwise). The cells, tasks and intake (steps 9 to 14) need python3. Builds the server
# and the CLI (Release) if they are missing or older than their sources.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
. scripts/prerequisites.sh

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
# A temporary directory for the relay's database and log and the profiles; removed on exit
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
    printf '  database   %s\n  relay log  %s\n  profiles   %s/ (anna, boris, vera; the cells'"'"' members by their\n             seed keys, e.g. nh-heron)\n' "$db" "$log" "$profiles"
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

# ---------------------------------------------------------------------------------------------
# Part two: a network of cells, loaded from seeds/network.json, and tasks routed by risk.

if ! command -v python3 >/dev/null 2>&1; then
  heading "9. Cells and tasks"
  say "python3 is needed to read seeds/network.json; skipping the cells and tasks."
  say "(Debian: sudo apt-get install -y python3)"
  heading "Done"
  say "The relay held only padded ciphertext, and only until every device had fetched it; the texts"
  say "were readable only on the devices that wrote and read them."
  exit 0
fi

# py_json CODE: runs CODE with d = the JSON object on standard input.
py_json() { python3 -c 'import json, sys; d = json.load(sys.stdin); exec(sys.argv[1])' "$1"; }

heading "9. A network of two cells, from seeds/network.json"

# The first two cells and their members, as tab-separated lines:
#   cell  KEY  NAME  DESCRIPTION
#   member  CELL  KEY  LABEL  ROLE  CEILING  TAGS (the member's tags and the cell's defaultTags)
# Ceilings are numbers in the seed (0..3); members without one get the cell's defaultRiskCeiling.
seed_lines="$(python3 - "$root/seeds/network.json" <<'PY'
import json, sys
levels = ["low", "elevated", "high", "critical"]
seed = json.load(open(sys.argv[1], encoding="utf-8"))
clean = lambda s: " ".join(str(s).split())
for cell in seed["cells"][:2]:
    print("\t".join(["cell", cell["key"], clean(cell["name"]), clean(cell.get("description", ""))]))
    for m in cell["members"]:
        tags = list(dict.fromkeys(m.get("tags", []) + cell.get("defaultTags", [])))
        ceiling = levels[m.get("riskCeiling", cell["defaultRiskCeiling"])]
        print("\t".join(["member", cell["key"], m["key"], clean(m["label"]), m["role"], ceiling, " ".join(tags)]))
PY
)"

declare -A cell_name cell_desc cell_id cell_org cell_members
declare -A m_label m_short m_role m_ceiling m_tags m_cell m_account m_membership
cells=() people=()
while IFS=$'\t' read -r kind a b c d e f; do
  if [ "$kind" = cell ]; then
    cells+=("$a") cell_name[$a]="$b" cell_desc[$a]="$c" cell_members[$a]=""
  else
    people+=("$b")
    m_cell[$b]="$a" m_label[$b]="$c" m_short[$b]="${c%% (*}" m_role[$b]="$d" m_ceiling[$b]="$e" m_tags[$b]="$f"
    cell_members[$a]+="$b "
    if [ "$d" = organizer ] && [ -z "${cell_org[$a]:-}" ]; then cell_org[$a]="$b"; fi
  fi
done <<<"$seed_lines"
for c in "${cells[@]}"; do
  [ -n "${cell_org[$c]:-}" ] || die "cell '$c' in seeds/network.json has no organizer."
done

say "Read with python3 from seeds/network.json (its \"\$comment\" lists what is sealed and what is"
say "plain on the relay): the cells ${cell_name[${cells[0]}]} and ${cell_name[${cells[1]}]}, and their members."
say "A ceiling is the most risk a member may be asked to take; members without one in the seed get"
say "the cell's defaultRiskCeiling, and everyone gets the cell's defaultTags."
rows=$'Cell\tMember\tRole\tCeiling\tCapability tags'
for p in "${people[@]}"; do
  rows+=$'\n'"${cell_name[${m_cell[$p]}]}"$'\t'"${m_label[$p]}"$'\t'"${m_role[$p]}"$'\t'"${m_ceiling[$p]}"$'\t'"${m_tags[$p]// /, }"
done
table <<<"$rows"

say
say "Each member creates an account: coord identity create --name LABEL --json (in parallel)."
pids=()
for p in "${people[@]}"; do
  as "$p" identity create --name "${m_label[$p]}" --json >"$tmp/identity-$p.json" 2>"$tmp/identity-$p.err" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
for p in "${people[@]}"; do
  if [ ! -s "$tmp/identity-$p.json" ]; then
    cat "$tmp/identity-$p.err" >&2
    die "creating the account of ${m_label[$p]} failed."
  fi
  m_account[$p]="$(json_get accountId <"$tmp/identity-$p.json")"
done

for c in "${cells[@]}"; do
  org="${cell_org[$c]}"
  say
  say "${m_short[$org]}, the organizer, creates the cell:"
  say "  coord cell create --name '${cell_name[$c]}' --description '...' --display-name '${m_label[$org]}' --json"
  out="$(as "$org" cell create --name "${cell_name[$c]}" --description "${cell_desc[$c]}" --display-name "${m_label[$org]}" --json)"
  cell_id[$c]="$(json_get cellId <<<"$out")"
  m_membership[$org]="$(json_get membershipId <<<"$out")"
  printf '    cell %s, announcements %s, %s is its organizer (membership %s)\n' \
    "${cell_id[$c]}" "$(json_get announcementsId <<<"$out" | cut -c1-8)" "${m_short[$org]}" "${m_membership[$org]:0:8}"
  say "Invites (coord cell invite CELL --role R --ceiling LEVEL, by ${m_short[$org]}), each handed to one"
  say "person, who joins with it (coord cell join CODE --display-name LABEL):"
  for p in ${cell_members[$c]}; do
    [ "$p" = "$org" ] && continue
    invite="$(as "$org" cell invite "${cell_id[$c]}" --role "${m_role[$p]}" --ceiling "${m_ceiling[$p]}" --json)"
    code="$(json_get code <<<"$invite")"
    joined="$(as "$p" cell join "$code" --display-name "${m_label[$p]}" --json)"
    m_membership[$p]="$(json_get membershipId <<<"$joined")"
    printf '    %-7s invite %s... (%s, ceiling %s) -> %s, membership %s\n' "${m_short[$p]}" "${code:0:10}" \
      "$(json_get role <<<"$invite")" "$(json_get ceiling <<<"$invite")" "$(json_get status <<<"$joined")" "${m_membership[$p]:0:8}"
  done
  say "Capability tags, set by ${m_short[$org]}: coord task tags --cell CELL --member MEMBERSHIP TAG..."
  say "(only keyed hashes of the names reach the relay, under a key derived from the cell key):"
  for p in ${cell_members[$c]}; do
    # shellcheck disable=SC2086 # the tags are words
    as "$org" task tags --cell "${cell_id[$c]}" --member "${m_membership[$p]}" ${m_tags[$p]} --json >/dev/null
    printf '    %-7s %s\n' "${m_short[$p]}" "${m_tags[$p]// /, }"
  done
done

nh="${cells[0]}" ln="${cells[1]}"
nh_org="${cell_org[$nh]}" ln_org="${cell_org[$ln]}"

say
say "${m_short[$ln_org]} also invites a volunteer who has not joined yet (the invite waits on the relay until"
say "it is used or expires): coord cell invite CELL --role newcomer --ceiling low --expires 3d"
pending_code="$(as "$ln_org" cell invite "${cell_id[$ln]}" --role newcomer --ceiling low --expires 3d --json | json_get code)"
printf '    code %s (given in person; shown here in full to search the relay for it below)\n' "$pending_code"

# Shortens ids to 8 characters and names the known cells, accounts and memberships (for reading
# only: the relay has only the ids).
label_network_ids() {
  local script="" c p
  for c in "${cells[@]}"; do
    script+="s/${cell_id[$c],,}/${cell_id[$c]:0:8} (${cell_name[$c]})/g; "
  done
  for p in "${people[@]}"; do
    script+="s/${m_account[$p],,}/${m_account[$p]:0:8} (${m_short[$p]})/g; s/${m_membership[$p],,}/${m_membership[$p]:0:8} (${m_short[$p]})/g; "
  done
  sed -E 's/\b[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\b/\L&/g' | sed -E "$script"'s/\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/\1/g'
}

# membership_label ID: the member's short label for a membership id.
membership_label() {
  local p
  for p in "${people[@]}"; do
    [ "${m_membership[$p]}" = "$1" ] && { printf '%s' "${m_short[$p]}"; return; }
  done
  printf '%s' "${1:0:8}"
}

# try WHO ARGS...: runs a command as WHO with --json that may be refused, without stopping the
# script; sets try_status (the exit status), try_out (standard output) and try_err (standard error).
try() {
  local who="$1"
  shift
  try_status=0
  as "$who" "$@" --json >"$tmp/try.out" 2>"$tmp/try.err" || try_status=$?
  try_out="$(cat "$tmp/try.out")" try_err="$(cat "$tmp/try.err")"
}

# refused: describes the failure the last try printed, {"error": ..., "status": ...} on stderr.
refused() {
  if [ "$try_status" = 0 ]; then
    say "    NOT refused (exit status 0): $try_out"
    return
  fi
  python3 -c '
import json, sys
status, err = sys.argv[1], sys.argv[2]
try:
    e = json.loads(err.strip().splitlines()[-1])
    print("    refused: exit status %s, relay status %s" % (status, e.get("status", "-")))
    print("    error:   %s" % e["error"])
except Exception:
    print("    refused: exit status %s" % status)
    for line in err.splitlines(): print("    | " + line)
' "$try_status" "$try_err"
}

# ---------------------------------------------------------------------------------------------
heading "10. The two cells cannot see each other"

who="$ln_org"
for p in ${cell_members[$ln]}; do [ "${m_role[$p]}" = member ] && { who="$p"; break; }; done
say "${m_short[$who]} is a member of ${cell_name[$ln]}."
say
say "${m_short[$who]}: coord cell list"
as "$who" cell list --json | py_json '
for c in d["cells"]:
    print("    %s  %-14s %s, ceiling %s" % (c["cellId"], c["name"], c["role"], c["ceiling"]))
if not d["cells"]: print("    (no cells)")'
say
say "${m_short[$who]}: coord cell show <${cell_name[$nh]}'s id>"
try "$who" cell show "${cell_id[$nh]}"
refused
say
say "${m_short[$who]}: coord read --from <${cell_name[$nh]}'s id>"
try "$who" read --from "${cell_id[$nh]}"
refused
say
say "${m_short[$who]}: coord cell members <${cell_name[$ln]}'s id>   (the roster, verified against the signed log;"
say "the names are display names, decrypted with the cell key on ${m_short[$who]}'s device)"
as "$who" cell members "${cell_id[$ln]}" --json | py_json '
print("Membership\tAccount\tRole\tCeiling\tName")
for m in d["members"]:
    print("\t".join([m["membershipId"][:8], m["accountId"][:8], m["role"], m["ceiling"], (m["displayName"] or "-") + (" (you)" if m["you"] else "")]))
for a in d["alerts"]: print("ALERT\t%s\t%s" % (a["kind"], a["detail"]))' | table
say
say "And the other way: ${m_short[$nh_org]} (organizer of ${cell_name[$nh]}): coord cell members <${cell_name[$ln]}'s id>"
try "$nh_org" cell members "${cell_id[$ln]}"
refused

# ---------------------------------------------------------------------------------------------
heading "11. What the relay stores about the cells"

if [ -z "$sql_tool" ]; then
  say "(Needs sqlite3 or python3's sqlite3 module.)"
else
  say "Cells: the name and description are one sealed blob (SealedProfile), padded; the relay also"
  say "keeps the length and head of the signed membership log (kind 2 = cell, 3 = group):"
  sql 'SELECT "Id" AS "Cell", "Kind", "AnnouncementsId" AS "Announcements", "LogLength" AS "Log entries",
      length("SealedProfile") AS "SealedProfile bytes", lower(hex(substr("SealedProfile", 1, 16))) AS "SealedProfile (first 16 bytes)"
      FROM "Cells" ORDER BY "LogLength" DESC' | label_network_ids | table
  say
  say "Memberships: role (1 organizer, 2 member, 3 newcomer) and ceiling (0 low .. 3 critical) are plain,"
  say "because the relay enforces them; the display name is sealed under the cell key:"
  sql 'SELECT "Id" AS "Membership", "CellId" AS "Cell", "AccountId" AS "Account", "Role", "Ceiling",
      length("SealedDisplayName") AS "Name bytes", lower(hex(substr("SealedDisplayName", 1, 12))) AS "SealedDisplayName (first 12 bytes)"
      FROM "Memberships" ORDER BY "CellId", "Role", "Ceiling" DESC' | label_network_ids | table
  say
  say "MembershipLog: signed entries (body and Ed25519 signature), one per change:"
  sql 'SELECT "CellId" AS "Cell", count(*) AS "Entries", sum(length("Body")) AS "Body bytes", sum(length("Signature")) AS "Signature bytes"
      FROM "MembershipLog" GROUP BY "CellId"' | label_network_ids | table
  say
  say "Invites: a used-up invite is deleted, so only ${m_short[$ln_org]}'s unused one is left. The relay finds it"
  say "by a hash of the code (LookupId); the grant is signed, and the cell key is sealed to the code,"
  say "which the relay never sees:"
  sql 'SELECT "CellId" AS "Cell", lower(hex(substr("LookupId", 1, 8))) AS "LookupId (first 8 bytes)", length("Grant") AS "Grant bytes",
      length("SealedCellKey") AS "SealedCellKey bytes", "UsesLeft" AS "Uses left", datetime("ExpiresAt" / 1000, '"'unixepoch'"') AS "Expires (UTC)"
      FROM "Invites"' | label_network_ids | table
  say
  say "MembershipTags: 32-byte keyed hashes, keyed per cell, so the same tag name gives different hashes"
  say "in the two cells and the relay cannot match members across cells by their tags:"
  sql 'SELECT m."CellId" AS "Cell", count(*) AS "Tags set", count(DISTINCT t."Tag") AS "Distinct hashes"
      FROM "MembershipTags" t JOIN "Memberships" m ON m."Id" = t."MembershipId" GROUP BY m."CellId"' | label_network_ids | table
  printf '    Hashes the two cells share: %s\n' "$(sql 'SELECT count(*) AS n FROM (SELECT t."Tag" FROM "MembershipTags" t JOIN "Memberships" m ON m."Id" = t."MembershipId"
      GROUP BY t."Tag" HAVING count(DISTINCT m."CellId") > 1)' | tail -n 1)"
fi
say
say "Searching the database, its WAL and the relay's log for the cell names and descriptions, the"
say "member labels and the tag names:"
strings=()
for c in "${cells[@]}"; do strings+=("${cell_name[$c]}" "${cell_desc[$c]}"); done
for p in "${people[@]}"; do strings+=("${m_label[$p]}"); done
strings+=(russian-speaking public-name translator "$pending_code")
search_relay_files "${strings[@]}"
printf '    (A check that the search works: %s'"'"'s membership id, which the relay does store, is %s.)\n' "${m_short[$who]}" \
  "$(grep -a -q -i -F -- "${m_membership[$who]}" "$db" "$db-wal" 2>/dev/null && echo found || echo 'NOT found')"

# ---------------------------------------------------------------------------------------------
heading "12. Tasks by risk, in ${cell_name[$nh]}"

# Who is who, from the seed: no field says where anyone is. A critical ceiling is what only
# people out of reach get (abroad); a low or elevated ceiling and the in-country tag mark someone
# inside.
abroad="" inside="" other_abroad=""
for p in ${cell_members[$nh]}; do
  case " ${m_tags[$p]} " in *" public-name "*) if [ "${m_ceiling[$p]}" = critical ] && [ -z "$abroad" ]; then abroad="$p"; fi ;; esac
done
for p in ${cell_members[$nh]}; do
  if [ "${m_ceiling[$p]}" = critical ] && [ "$p" != "$abroad" ] && [ -z "$other_abroad" ]; then other_abroad="$p"; fi
done
for p in ${cell_members[$nh]}; do
  case " ${m_tags[$p]} " in *" in-country "*) if [ "${m_ceiling[$p]}" != critical ] && [ -z "$inside" ]; then inside="$p"; fi ;; esac
done
added_tag=0
if [ -z "$inside" ]; then
  # Nobody has the tag in the seed: the organizer gives it to the first member (not a newcomer)
  # with a low or elevated ceiling.
  for p in ${cell_members[$nh]}; do
    if [ "${m_role[$p]}" = member ]; then
      case "${m_ceiling[$p]}" in low | elevated) inside="$p"; break ;; esac
    fi
  done
  added_tag=1
fi
[ -n "$abroad" ] && [ -n "$inside" ] && [ -n "$other_abroad" ] \
  || die "seeds/network.json: ${cell_name[$nh]} needs a member with ceiling 3 and public-name, another with ceiling 3, and one with a low ceiling."

say "The seed does not say who is abroad; ceilings say it for the relay. In ${cell_name[$nh]}:"
for p in ${cell_members[$nh]}; do
  case "${m_ceiling[$p]}" in critical) where="ceiling critical: can take public work (abroad)" ;; *) where="ceiling ${m_ceiling[$p]}: inside the country" ;; esac
  printf '    %-7s %-10s %s; tags: %s\n' "${m_short[$p]}" "${m_role[$p]}" "$where" "${m_tags[$p]// /, }"
done
if [ "$added_tag" = 1 ]; then
  m_tags[$inside]="${m_tags[$inside]} in-country"
  say
  say "No member of ${cell_name[$nh]} has the in-country tag in the seed, so for this demo ${m_short[$nh_org]} gives it"
  say "to ${m_short[$inside]} (tags replace the old ones, so the others are given again):"
  say "  coord task tags --cell CELL --member <${m_short[$inside]}'s membership> ${m_tags[$inside]}"
  # shellcheck disable=SC2086 # the tags are words
  as "$nh_org" task tags --cell "${cell_id[$nh]}" --member "${m_membership[$inside]}" ${m_tags[$inside]} --json >/dev/null
fi

export COORD_TEMPLATES="$root/seeds/task-templates.json"
say
say "${m_short[$nh_org]} creates two tasks from seeds/task-templates.json (COORD_TEMPLATES):"
say "  coord task create --cell CELL --template fundraising --json"
say "  coord task create --cell CELL --template prisoner-parcel --json"
declare -A task_id task_title
for t in fundraising prisoner-parcel; do
  out="$(as "$nh_org" task create --cell "${cell_id[$nh]}" --template "$t" --json)"
  task_id[$t]="$(json_get taskId <<<"$out")"
  task_title[$t]="$(json_get title <<<"$out")"
  task_body="$(json_get body <<<"$out")"
  printf '%s' "$task_body" >"$tmp/body-$t.txt"
  printf '    %-16s task %s  risk %-8s  %s required tag(s)  %s people  "%s"\n' "$t" "${task_id[$t]:0:8}" \
    "$(json_get risk <<<"$out")" "$(json_get requiredTags <<<"$out")" "$(json_get peopleNeeded <<<"$out")" "${task_title[$t]}"
done
say "    (fundraising needs public-name; prisoner-parcel needs in-country)"

say
say "${m_short[$nh_org]} asks the relay who may take each one: coord task suggest TASK --json"
for t in fundraising prisoner-parcel; do
  names="$(as "$nh_org" task suggest "${task_id[$t]}" --json | py_json '
for s in d["suggestions"]: print(s["membershipId"], s["margin"])' | while read -r id margin; do
    printf '%s (margin %s), ' "$(membership_label "$id")" "$margin"
  done)"
  names="${names%, }"
  printf '    %-16s %s\n' "$t" "${names:-nobody}"
done
say "    (${m_short[$other_abroad]} has the ceiling for fundraising but not the public-name tag; only the"
say "     in-country tag makes someone eligible for the parcel.)"

say
say "First the wrong way round. The relay refuses, whoever asks:"
say "${m_short[$nh_org]}: coord task offer <fundraising> --to <${m_short[$inside]}'s membership>   (critical; ${m_short[$inside]}'s ceiling is ${m_ceiling[$inside]})"
try "$nh_org" task offer "${task_id[fundraising]}" --to "${m_membership[$inside]}"
refused
say "${m_short[$inside]} tries to take a place in it directly: coord task accept <fundraising>"
try "$inside" task accept "${task_id[fundraising]}"
refused
say "${m_short[$nh_org]}: coord task offer <prisoner-parcel> --to <${m_short[$other_abroad]}'s membership>   (${m_short[$other_abroad]}'s ceiling is ${m_ceiling[$other_abroad]}, but no in-country tag)"
try "$nh_org" task offer "${task_id[prisoner-parcel]}" --to "${m_membership[$other_abroad]}"
refused

# parts TASK_JSON: "task STATE (ACCEPTED of NEEDED people): WHO STATE, ..." for a task printed with --json.
parts() {
  py_json '
taken = sum(1 for a in d["assignments"] if a["state"] in ("accepted", "done"))
print("task %s (%d of %d people): %s" % (d["state"], taken, d["peopleNeeded"], ", ".join(a["membershipId"] + " " + a["state"] for a in d["assignments"])))' \
    | label_network_ids
}

say
if [ "$abroad" = "$nh_org" ]; then
  say "Then the right way. The critical task goes to someone abroad: ${m_short[$abroad]}, the only one with a"
  say "critical ceiling and the public-name tag, offers it to their own membership"
  say "(coord task offer TASK --to MEMBERSHIP) and accepts it (coord task accept TASK):"
else
  say "Then the right way. The critical task goes to someone abroad: offered to ${m_short[$abroad]}"
  say "(coord task offer TASK --to MEMBERSHIP), who accepts (coord task accept TASK):"
fi
out="$(as "$nh_org" task offer "${task_id[fundraising]}" --to "${m_membership[$abroad]}" --json)"
printf '    offered:  %s\n' "$(parts <<<"$out")"
out="$(as "$abroad" task accept "${task_id[fundraising]}" --json)"
printf '    accepted: %s\n' "$(parts <<<"$out")"
say "The low-risk in-country task goes to someone inside: offered to ${m_short[$inside]}, who accepts:"
out="$(as "$nh_org" task offer "${task_id[prisoner-parcel]}" --to "${m_membership[$inside]}" --json)"
printf '    offered:  %s\n' "$(parts <<<"$out")"
out="$(as "$inside" task accept "${task_id[prisoner-parcel]}" --json)"
printf '    accepted: %s\n' "$(parts <<<"$out")"

say
say "${m_short[$inside]}: coord task list --cell CELL   (titles decrypted on ${m_short[$inside]}'s device)"
as "$inside" task list --cell "${cell_id[$nh]}" --json | py_json '
print("Task\tRisk\tState\tTitle")
for t in d["tasks"]: print("\t".join([t["taskId"][:8], t["risk"], t["state"], t["title"]]))' | table

# ---------------------------------------------------------------------------------------------
heading "13. What the relay stores about the tasks"

if [ -n "$sql_tool" ]; then
  say "Tasks: the risk (0 low .. 3 critical), the required tags as keyed hashes, the number of people"
  say "and the state (1 open, 2 offered, 3 accepted) are plain, because the relay enforces them; the"
  say "title and description are one sealed blob:"
  sql 'SELECT "Id" AS "Task", "CellId" AS "Cell", "Risk", length("RequiredTags") / 32 AS "Tag hashes", "PeopleNeeded" AS "People", "State",
      length("SealedContent") AS "Sealed bytes", lower(hex(substr("SealedContent", 1, 16))) AS "SealedContent (first 16 bytes)"
      FROM "Tasks" ORDER BY "Risk" DESC' | label_network_ids | table
  say
  say "TaskAssignments (state 2 = accepted):"
  sql 'SELECT "TaskId" AS "Task", "MembershipId" AS "Membership", "State" FROM "TaskAssignments" ORDER BY "TaskId"' | label_network_ids | table
fi
say
say "Searching the database, its WAL and the relay's log for the task titles and descriptions:"
search_relay_files "${task_title[fundraising]}" "${task_title[prisoner-parcel]}" \
  "$(cut -c1-60 "$tmp/body-fundraising.txt")" "$(cut -c1-60 "$tmp/body-prisoner-parcel.txt")"

heading "14. An anonymous report to Linden's intake"

say "${m_short[$ln_org]} opens an intake for Linden: coord intake open --cell <Linden> (the key pair is"
say "made on this device; the relay gets the private half only sealed under the cell key)."
intake_out="$(as "$ln_org" intake open --cell "${cell_id[$ln]}" --difficulty 12 --json)"
intake_id="$(json_get intakeId <<<"$intake_out")"
say "    intake ${intake_id:0:8}, web page $(json_get page <<<"$intake_out") (sealed in the browser)"
report_text="Two people were detained at the Linden bus station this morning; their lawyer was not let in."
say
say "Someone with no account reports, as a chat bot or the page would: coord intake submit <intake> --text '...'"
submitted="$(cli intake submit "$intake_id" --text "$report_text" --json)"
receipt="$(json_get receipt <<<"$submitted")"
say "    the reporter keeps the receipt: $receipt"
say
say "The team's inbox, opened on ${m_short[$ln_org]}'s device: coord intake inbox --cell <Linden>"
inbox="$(as "$ln_org" intake inbox --cell "${cell_id[$ln]}" --json)"
report_id="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["reports"][0]["reportId"])' <<<"$inbox")"
python3 -c 'import json,sys
for r in json.load(sys.stdin)["reports"]:
    print("report %s, %s, received %s: %s" % (r["reportId"][:8], r["state"], r["receivedOn"], (r["answers"] or {}).get("what", "(unreadable)")))' <<<"$inbox" | indent
reply_text="We have a lawyer on the way. Write again with the names if you can."
as "$ln_org" intake reply "$report_id" --cell "${cell_id[$ln]}" --text "$reply_text" --json >/dev/null
say
say "The reporter checks for replies with the receipt alone: coord intake check <receipt>"
cli intake check "$receipt" --json | python3 -c 'import json,sys
for r in json.load(sys.stdin)["replies"]:
    print("reply: %s" % (r["text"] or "(could not be read: %s)" % r["failure"]))' | indent
say
say "Searching the database, its WAL and the relay's log for the report, the reply and the receipt:"
search_relay_files "$report_text" "$reply_text" "$receipt"

heading "Done"
say "The relay held only padded ciphertext, and only until every device had fetched it; the texts"
say "were readable only on the devices that wrote and read them. Of the cells and tasks it held"
say "what it enforces (roles, ceilings, risk levels, keyed tag hashes, the signed membership log);"
say "names, labels and task texts were sealed under keys it never had."
