#!/usr/bin/env bash
# Restores a backup made by backup.sh. Stop every relay node first: a node that keeps running
# holds connections and caches from before the restore.
#
#   restore.sh sqlite BACKUP_FILE DATA_DIRECTORY
#       Replaces DATA_DIRECTORY/coordination.db with BACKUP_FILE. The current database (with its
#       -wal and -shm files) is kept beside it as coordination.db.before-restore-<UTC time>.
#       The restored file gets the owner of DATA_DIRECTORY and mode 0600. Run it as root.
#
#   restore.sh postgres [--recreate] BACKUP_FILE
#       pg_restore --clean --if-exists in one transaction into the database named by the libpq
#       environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSFILE). --clean drops only what the
#       backup contains: restoring an older backup over a newer schema leaves the newer tables in
#       place, and the relay's migrations would then fail. --recreate drops and creates the
#       database first (dropdb/createdb, connecting to the maintenance database "postgres"); use
#       it unless you know the schema is the backup's.
#
#   restore.sh compose [--recreate] BACKUP_FILE
#       The same, through pg_restore inside the postgres container of deploy/compose.yaml. Stop
#       the relays first: docker compose -f deploy/compose.yaml stop relay1 relay2
#
# No key is needed: the backup holds no secret that the restore has to unlock. For receipts to
# find their reports afterwards, the relays need the same intake pepper as before (Intake__Pepper
# or the intake-pepper.key file, which the operator keeps apart from the backups).
set -euo pipefail

usage() {
  # The comment block at the top of this file.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

die() {
  echo "restore: $*" >&2
  exit 1
}

[ $# -ge 1 ] || usage
kind="$1"
shift
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
umask 077

case "$kind" in
  sqlite)
    [ $# -eq 2 ] || usage
    backup="$1"
    dir="$2"
    db="$dir/coordination.db"
    [ -f "$backup" ] || die "$backup does not exist."
    [ -d "$dir" ] || die "the data directory $dir does not exist."
    command -v sqlite3 >/dev/null 2>&1 \
      || die "the sqlite3 program is not installed. Run: sudo apt-get update && sudo apt-get install -y sqlite3"
    check="$(sqlite3 -bail -readonly "$backup" "PRAGMA integrity_check;")"
    [ "$check" = "ok" ] || die "$backup failed its integrity check: $check"
    if command -v fuser >/dev/null 2>&1 && [ -e "$db" ] && fuser -s "$db" 2>/dev/null; then
      die "$db is open (is a relay still running?). Stop it first."
    fi

    owner="$(stat -c %u:%g "$dir")"
    tmp="$dir/.coordination.db.restoring"
    trap 'rm -f "$tmp"' EXIT
    cp -- "$backup" "$tmp"
    chmod 0600 "$tmp"
    chown "$owner" "$tmp" 2>/dev/null || [ "$(id -u)" != "0" ] || die "could not give $tmp to $owner."

    for suffix in "" -wal -shm; do
      if [ -e "$db$suffix" ]; then
        mv -- "$db$suffix" "$db.before-restore-$stamp$suffix"
      fi
    done
    mv -- "$tmp" "$db"
    trap - EXIT
    echo "restored $backup to $db; the previous database is $db.before-restore-$stamp (delete it once the relay runs)."
    ;;

  postgres | compose)
    recreate=0
    if [ "${1:-}" = "--recreate" ]; then
      recreate=1
      shift
    fi
    [ $# -eq 1 ] || usage
    backup="$1"
    [ -f "$backup" ] || die "$backup does not exist."
    if [ "$kind" = "postgres" ]; then
      command -v pg_restore >/dev/null 2>&1 \
        || die "pg_restore is not installed. Run: sudo apt-get update && sudo apt-get install -y postgresql-client"
      pg_restore --list "$backup" >/dev/null || die "$backup is not a pg_dump custom-format file."
      if [ "$recreate" = "1" ]; then
        database="${PGDATABASE:-coordination}"
        dropdb --maintenance-db=postgres --if-exists "$database"
        createdb --maintenance-db=postgres "$database"
      fi
      pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
        --dbname="${PGDATABASE:-coordination}" "$backup"
    else
      command -v docker >/dev/null 2>&1 || die "docker is not installed."
      compose_file="${COMPOSE_FILE:-deploy/compose.yaml}"
      [ -f "$compose_file" ] || die "$compose_file not found: run from the repository root or set COMPOSE_FILE."
      if [ "$recreate" = "1" ]; then
        docker compose -f "$compose_file" exec -T postgres \
          dropdb --username=coordination --maintenance-db=postgres --if-exists coordination
        docker compose -f "$compose_file" exec -T postgres \
          createdb --username=coordination --maintenance-db=postgres coordination
      fi
      docker compose -f "$compose_file" exec -T postgres \
        pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
        --username=coordination --dbname=coordination <"$backup"
    fi
    echo "restored $backup; start the relays again."
    ;;

  -h | --help | help) usage ;;
  *) usage ;;
esac
