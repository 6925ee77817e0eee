#!/usr/bin/env bash
# Backs up the Coordination relay's database: a consistent copy taken while the relay runs.
#
#   backup.sh sqlite DATA_DIRECTORY OUTPUT_DIRECTORY
#       SQLite's online backup of DATA_DIRECTORY/coordination.db (the sqlite3 command line program:
#       apt-get install sqlite3). Run it as root or as the relay's user.
#
#   backup.sh postgres OUTPUT_DIRECTORY
#       pg_dump --format=custom of the database named by the libpq environment (PGHOST, PGPORT,
#       PGDATABASE, PGUSER and PGPASSFILE or ~/.pgpass). pg_dump must be at least the server's
#       major version (apt-get install postgresql-client).
#
#   backup.sh compose OUTPUT_DIRECTORY
#       The same dump, taken by pg_dump inside the postgres container of deploy/compose.yaml
#       (docker compose exec), so the versions always match. Run it from the repository root or
#       set COMPOSE_FILE.
#
# The file is written with mode 0600 (coordination-<kind>-<UTC time>.db or .dump) and its path is
# printed. It holds what the database holds: ciphertext, public keys, random ids, token hashes and
# the metadata listed in deploy/README.md; no key that decrypts anything, and not the intake pepper
# (which is kept apart). Encrypting the file for storage (e.g. with age) is the operator's choice.
set -euo pipefail

usage() {
  # The comment block at the top of this file.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

die() {
  echo "backup: $*" >&2
  exit 1
}

[ $# -ge 1 ] || usage
kind="$1"
shift
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
umask 077

# Moves a finished temporary file to its final name, mode 0600, and prints the path.
finish() {
  local tmp="$1" final="$2"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$final"
  echo "$final"
  if command -v sha256sum >/dev/null 2>&1; then
    echo "sha256 $(sha256sum "$final" | cut -d' ' -f1)" >&2
  fi
}

output_directory() {
  [ -d "$1" ] || die "the output directory $1 does not exist."
  [ -w "$1" ] || die "the output directory $1 is not writable."
  (cd "$1" && pwd)
}

case "$kind" in
  sqlite)
    [ $# -eq 2 ] || usage
    db="$1/coordination.db"
    out="$(output_directory "$2")"
    [ -f "$db" ] || die "$db does not exist."
    command -v sqlite3 >/dev/null 2>&1 \
      || die "the sqlite3 program is not installed. Run: sudo apt-get update && sudo apt-get install -y sqlite3"
    final="$out/coordination-sqlite-$stamp.db"
    tmp="$final.partial"
    case "$tmp" in *"'"*) die "the output path must not contain a single quote." ;; esac
    trap 'rm -f "$tmp"' EXIT
    # The online backup API copies a consistent snapshot, including commits still in the -wal
    # file, while the relay keeps writing. A plain cp of a WAL database is not consistent.
    sqlite3 -bail "$db" ".timeout 10000" ".backup '$tmp'"
    check="$(sqlite3 -bail "$tmp" "PRAGMA integrity_check;")"
    [ "$check" = "ok" ] || die "the copy failed its integrity check: $check"
    finish "$tmp" "$final"
    trap - EXIT
    ;;

  postgres | compose)
    [ $# -eq 1 ] || usage
    out="$(output_directory "$1")"
    final="$out/coordination-postgres-$stamp.dump"
    tmp="$final.partial"
    trap 'rm -f "$tmp"' EXIT
    if [ "$kind" = "postgres" ]; then
      command -v pg_dump >/dev/null 2>&1 \
        || die "pg_dump is not installed. Run: sudo apt-get update && sudo apt-get install -y postgresql-client"
      # --no-owner/--no-privileges: the dump restores into any role's database.
      pg_dump --format=custom --no-owner --no-privileges --file="$tmp"
    else
      command -v docker >/dev/null 2>&1 || die "docker is not installed."
      compose_file="${COMPOSE_FILE:-deploy/compose.yaml}"
      [ -f "$compose_file" ] || die "$compose_file not found: run from the repository root or set COMPOSE_FILE."
      docker compose -f "$compose_file" exec -T postgres \
        pg_dump --format=custom --no-owner --no-privileges --username=coordination --dbname=coordination >"$tmp"
    fi
    [ -s "$tmp" ] || die "pg_dump wrote nothing."
    finish "$tmp" "$final"
    trap - EXIT
    ;;

  -h | --help | help) usage ;;
  *) usage ;;
esac
