#!/usr/bin/env bash
# A throwaway PostgreSQL instance for the PostgreSQL test pass of run-tests.sh: Debian's binaries,
# a data directory of its own in a fresh temporary directory, TCP on 127.0.0.1 only. It never
# touches the Debian cluster (pg_ctlcluster, the system service, /var/lib/postgresql).
#
#   scripts/postgres-instance.sh start              installs postgresql with apt-get when missing,
#                                                   starts an instance and prints `export` lines
#   scripts/postgres-instance.sh restart [DIR]      pg_ctl restart -m fast on the same port and data
#   scripts/postgres-instance.sh status [DIR]       pg_ctl status
#   scripts/postgres-instance.sh stop [DIR]         stops the instance and removes DIR; does nothing
#                                                   when DIR is already gone
#
# DIR defaults to $COORDINATION_TEST_POSTGRES_DIR. Use start like this (a plain
# `eval "$(... start)"` would carry on silently when start fails):
#
#   pg_env="$(scripts/postgres-instance.sh start)" || exit 1
#   eval "$pg_env"
#   ...
#   scripts/postgres-instance.sh stop
#
# start prints (on stdout; every message goes to stderr):
#   COORDINATION_TEST_POSTGRES       Npgsql connection string to the maintenance database `postgres`
#                                    as the role `coordination` (LOGIN CREATEDB, random password,
#                                    scram-sha-256 over TCP). It is a member of pg_signal_backend,
#                                    so that DROP DATABASE ... WITH (FORCE) also ends an autovacuum
#                                    worker busy in the database, and, on PostgreSQL 15 and later,
#                                    of pg_checkpoint, so a test can write shared buffers out to the
#                                    files it scans.
#   COORDINATION_TEST_POSTGRES_DATA  the data directory (DIR/data). When run as root the server runs
#                                    as the `postgres` user, which owns DIR; root reads it anyway.
#                                    Otherwise the server runs as the calling user.
#   COORDINATION_TEST_POSTGRES_DIR   DIR: the instance's temporary directory, holding data/, the
#                                    socket directory socket/, the server log postgres.log, the
#                                    superuser's password file superuser.pw and instance.state.
#   COORDINATION_TEST_POSTGRES_CTL   this script's absolute path: `"$COORDINATION_TEST_POSTGRES_CTL"
#                                    restart` restarts the instance named by
#                                    COORDINATION_TEST_POSTGRES_DIR (all it needs is in that
#                                    directory's instance.state).
#   COORDINATION_TEST_POSTGRES_PORT  the TCP port on 127.0.0.1.
#   COORDINATION_TEST_POSTGRES_BIN   the directory of pg_ctl and postgres (/usr/lib/postgresql/<v>/bin).
#   COORDINATION_TEST_POSTGRES_USER_PREFIX
#                                    the command prefix that runs pg_ctl as the owning user:
#                                    `runuser -u postgres --` as root, empty otherwise. Calling pg_ctl
#                                    directly, pass `-l "$COORDINATION_TEST_POSTGRES_LOG"` so that the
#                                    server does not hold the caller's stdout and stderr open.
#   COORDINATION_TEST_POSTGRES_LOG   the server log (DIR/postgres.log).
#
# Environment: TMPDIR (where DIR is created; /tmp by default; as root it must be reachable by the
# `postgres` user), COORDINATION_TEST_POSTGRES_PORTS (the port range to pick from,
# "54300-54999" by default).
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
script="$script_dir/$(basename "${BASH_SOURCE[0]}")"
. "$script_dir/prerequisites.sh"

STATE_FILE=instance.state
STATE_MARKER=coordination-test-postgres

# What start and the other commands know about an instance (set by start or load_state).
DIR="" OWNER="" BIN="" PORT=""

usage() {
  echo "usage: $(basename "$0") start | restart [DIR] | status [DIR] | stop [DIR]" >&2
  exit 2
}

# Runs a command as the instance's owner: directly when that is us, through runuser as root.
as_owner() {
  if [ "$(id -un)" = "$OWNER" ]; then
    "$@"
  elif [ "$(id -u)" = "0" ]; then
    runuser -u "$OWNER" -- "$@"
  else
    die "the PostgreSQL test instance in $DIR belongs to $OWNER; run this as $OWNER or as root."
  fi
}

# owner_write FILE: writes stdin to FILE as the owner, so the server can read it.
owner_write() {
  as_owner sh -c 'umask 077 && cat > "$1"' sh "$1"
}

# Quotes a value for postgresql.conf.
conf_quote() {
  printf "'%s'" "${1//\'/\'\'}"
}

random_hex() {
  od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
  else
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
  fi
}

log_tail() {
  if [ -f "$DIR/postgres.log" ]; then
    echo "--- last lines of $DIR/postgres.log ---" >&2
    tail -n 20 "$DIR/postgres.log" >&2 || true
  fi
}

# Resolves the instance directory from $1 or COORDINATION_TEST_POSTGRES_DIR (empty if neither).
instance_dir() {
  local dir="${1:-${COORDINATION_TEST_POSTGRES_DIR:-}}"
  [ -n "$dir" ] || return 0
  if [ -d "$dir" ]; then
    (cd "$dir" && pwd -P)
  else
    echo "$dir"
  fi
}

# Reads DIR/instance.state, refusing any directory that start did not create.
load_state() {
  DIR="$1"
  local key value marker=""
  OWNER="" BIN="" PORT=""
  [ -f "$DIR/$STATE_FILE" ] || die "$DIR is not a PostgreSQL test instance (no $STATE_FILE)."
  while IFS='=' read -r key value; do
    case "$key" in
      marker) marker="$value" ;;
      owner) OWNER="$value" ;;
      bin) BIN="$value" ;;
      port) PORT="$value" ;;
    esac
  done < "$DIR/$STATE_FILE"
  [ "$marker" = "$STATE_MARKER" ] || die "$DIR is not a PostgreSQL test instance (bad $STATE_FILE)."
  [[ "$OWNER" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "bad owner in $DIR/$STATE_FILE: $OWNER"
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "bad port in $DIR/$STATE_FILE: $PORT"
  [ -x "$BIN/pg_ctl" ] || die "no pg_ctl in $BIN (from $DIR/$STATE_FILE)."
}

# The postmaster's process id when it runs from DIR/data; empty otherwise.
postmaster_pid() {
  local pid
  [ -f "$DIR/data/postmaster.pid" ] || return 0
  pid="$(head -n1 "$DIR/data/postmaster.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$DIR/data"; then
    echo "$pid"
  fi
}

# Stops the server of DIR: fast shutdown, then immediate, then SIGKILL to the postmaster. Bounded.
stop_server() {
  local pid
  pid="$(postmaster_pid)"
  [ -n "$pid" ] || return 0
  as_owner timeout 75 "$BIN/pg_ctl" stop -D "$DIR/data" -m fast -w -t 60 -s >&2 \
    || as_owner timeout 45 "$BIN/pg_ctl" stop -D "$DIR/data" -m immediate -w -t 30 -s >&2 \
    || true
  pid="$(postmaster_pid)"
  if [ -n "$pid" ]; then
    echo "PostgreSQL (pid $pid) did not stop; killing it." >&2
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || return 0
      sleep 0.1
    done
    die "could not stop PostgreSQL (pid $pid) in $DIR."
  fi
}

# Removes DIR, but only a directory that start created.
remove_dir() {
  case "$DIR" in
    /*/*) ;;
    *) die "refusing to remove $DIR." ;;
  esac
  [ -f "$DIR/$STATE_FILE" ] || die "refusing to remove $DIR: it has no $STATE_FILE."
  rm -rf -- "$DIR"
}

# On a failed or interrupted start: stop what was started and remove the directory.
START_DONE=0
start_cleanup() {
  local status=$?
  if [ "$START_DONE" = "0" ] && [ -n "$DIR" ] && [ -d "$DIR" ]; then
    if [ -f "$DIR/$STATE_FILE" ]; then
      (stop_server) || true
    fi
    rm -rf -- "$DIR"
  fi
  return "$status"
}

cmd_start() {
  local base superuser_password password port first low high range attempt
  require_postgres
  BIN="$POSTGRES_BIN"

  if [ "$(id -u)" = "0" ]; then
    # initdb and postgres refuse to run as root: the server runs as Debian's postgres user.
    OWNER=postgres
    id -u "$OWNER" >/dev/null 2>&1 \
      || die "the postgres system user is missing (the postgresql package creates it). Run:
  sudo apt-get install --reinstall -y postgresql-common"
  else
    OWNER="$(id -un)"
  fi

  low=54300 high=54999
  range="${COORDINATION_TEST_POSTGRES_PORTS:-$low-$high}"
  if [[ "$range" =~ ^([0-9]{4,5})-([0-9]{4,5})$ ]]; then
    low=$((10#${BASH_REMATCH[1]})) high=$((10#${BASH_REMATCH[2]}))
  else
    low=0 high=0
  fi
  [ "$low" -ge 1024 ] && [ "$high" -le 65535 ] && [ "$low" -le "$high" ] \
    || die "COORDINATION_TEST_POSTGRES_PORTS must be a range of ports such as 54300-54999 (got $range)."

  base="${TMPDIR:-/tmp}"
  [ -d "$base" ] || die "TMPDIR ($base) is not a directory."
  base="$(cd "$base" && pwd -P)"
  trap start_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  DIR="$(mktemp -d "$base/coordination-postgres.XXXXXXXX")" || die "could not create a directory in $base."
  chmod 700 "$DIR"
  # The socket path must fit in sun_path (107 bytes): DIR/socket/.s.PGSQL.NNNNN.
  [ "${#DIR}" -le 80 ] || die "the temporary directory path is too long for a socket: $DIR (set TMPDIR=/tmp)."

  # The state file first, so that cleanup and stop recognise the directory from now on.
  printf 'marker=%s\nowner=%s\nbin=%s\nport=%s\n' "$STATE_MARKER" "$OWNER" "$BIN" 0 > "$DIR/$STATE_FILE"
  chmod 644 "$DIR/$STATE_FILE"

  if [ "$OWNER" != "$(id -un)" ]; then
    chown "$OWNER:" "$DIR"
    runuser -u "$OWNER" -- test -w "$DIR" \
      || die "the $OWNER user cannot write to $DIR; set TMPDIR to a directory it can reach (e.g. TMPDIR=/tmp)."
  fi
  cd "$DIR"

  superuser_password="$(random_hex 24)"
  password="$(random_hex 24)"
  as_owner mkdir -m 700 "$DIR/socket"
  printf '%s\n' "$superuser_password" | owner_write "$DIR/superuser.pw"

  echo "Creating a PostgreSQL test instance in $DIR ($BIN, running as $OWNER)..." >&2
  if ! as_owner timeout 120 "$BIN/initdb" -D "$DIR/data" --username=postgres \
      --pwfile="$DIR/superuser.pw" --auth=scram-sha-256 --encoding=UTF8 --locale=C \
      --no-sync > "$DIR/initdb.log" 2>&1; then
    tail -n 20 "$DIR/initdb.log" >&2 || true
    die "initdb failed in $DIR/data."
  fi

  as_owner sh -c 'cat >> "$1"' sh "$DIR/data/postgresql.conf" <<EOF

# Throwaway instance for the PostgreSQL test pass (scripts/postgres-instance.sh).
listen_addresses = '127.0.0.1'
include 'coordination-port.conf'
unix_socket_directories = $(conf_quote "$DIR/socket")
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
max_connections = 300
shared_buffers = 128MB
# A small pg_wal, so that scanning it for canaries stays quick (checkpoint_timeout is left at its default).
max_wal_size = 96MB
min_wal_size = 32MB
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off
log_min_messages = warning
log_checkpoints = off
log_min_error_statement = error
log_connections = off
log_disconnections = off
log_statement = 'none'
log_min_duration_statement = -1
EOF

  # A free port: a random start in the range, then the next ones; a port taken between the check
  # and the start makes the server fail to bind, and the next port is tried.
  first=$((low + RANDOM % (high - low + 1)))
  PORT=""
  for attempt in $(seq 0 19); do
    port=$((low + (first - low + attempt) % (high - low + 1)))
    port_in_use "$port" && continue
    printf 'port = %s\n' "$port" | owner_write "$DIR/data/coordination-port.conf"
    : > "$DIR/postgres.log"
    chown "$OWNER:" "$DIR/postgres.log"
    if as_owner timeout 90 "$BIN/pg_ctl" start -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 -s \
        > "$DIR/pg_ctl.out" 2>&1; then
      PORT="$port"
      break
    fi
    if grep -qE 'could not bind|could not create any TCP/IP sockets|Address already in use' "$DIR/postgres.log"; then
      echo "Port $port is taken; trying another." >&2
      continue
    fi
    cat "$DIR/pg_ctl.out" >&2 || true
    log_tail
    die "PostgreSQL did not start (see above)."
  done
  [ -n "$PORT" ] || die "no free port for PostgreSQL in $low-$high after 20 tries."
  printf 'marker=%s\nowner=%s\nbin=%s\nport=%s\n' "$STATE_MARKER" "$OWNER" "$BIN" "$PORT" > "$DIR/$STATE_FILE"

  # The test role, over the instance's own socket as the superuser.
  if ! PGPASSWORD="$superuser_password" PGCONNECT_TIMEOUT=10 as_owner timeout 60 "$BIN/psql" -X -q \
      -v ON_ERROR_STOP=1 -h "$DIR/socket" -p "$PORT" -U postgres -d postgres \
      -c "CREATE ROLE coordination LOGIN CREATEDB PASSWORD '$password'" \
      -c "GRANT pg_signal_backend TO coordination" \
      -c "DO \$\$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'pg_checkpoint') THEN GRANT pg_checkpoint TO coordination; END IF; END \$\$" >&2; then
    log_tail
    die "could not create the coordination role."
  fi

  echo "PostgreSQL test instance is up on 127.0.0.1:$PORT (data: $DIR/data)." >&2
  local prefix=""
  [ "$OWNER" = "$(id -un)" ] || prefix="runuser -u $OWNER --"
  printf 'export %s=%q\n' \
    COORDINATION_TEST_POSTGRES "Host=127.0.0.1;Port=$PORT;Username=coordination;Password=$password;Database=postgres" \
    COORDINATION_TEST_POSTGRES_DATA "$DIR/data" \
    COORDINATION_TEST_POSTGRES_DIR "$DIR" \
    COORDINATION_TEST_POSTGRES_CTL "$script" \
    COORDINATION_TEST_POSTGRES_PORT "$PORT" \
    COORDINATION_TEST_POSTGRES_BIN "$BIN" \
    COORDINATION_TEST_POSTGRES_USER_PREFIX "$prefix" \
    COORDINATION_TEST_POSTGRES_LOG "$DIR/postgres.log"
  START_DONE=1
}

cmd_restart() {
  local dir
  dir="$(instance_dir "${1:-}")"
  [ -n "$dir" ] || die "no PostgreSQL test instance given (pass DIR or set COORDINATION_TEST_POSTGRES_DIR)."
  [ -d "$dir" ] || die "the PostgreSQL test instance $dir does not exist."
  load_state "$dir"
  cd "$DIR"
  echo "Restarting the PostgreSQL test instance on 127.0.0.1:$PORT..." >&2
  if ! as_owner timeout 150 "$BIN/pg_ctl" restart -D "$DIR/data" -l "$DIR/postgres.log" \
      -m fast -w -t 60 -s >&2; then
    log_tail
    die "PostgreSQL did not restart (see above)."
  fi
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 10 \
    || { log_tail; die "PostgreSQL restarted but does not accept connections on 127.0.0.1:$PORT."; }
  echo "PostgreSQL test instance is up again on 127.0.0.1:$PORT." >&2
}

cmd_status() {
  local dir
  dir="$(instance_dir "${1:-}")"
  [ -n "$dir" ] || die "no PostgreSQL test instance given (pass DIR or set COORDINATION_TEST_POSTGRES_DIR)."
  [ -d "$dir" ] || die "the PostgreSQL test instance $dir does not exist."
  load_state "$dir"
  cd "$DIR"
  as_owner timeout 30 "$BIN/pg_ctl" status -D "$DIR/data" >&2
}

cmd_stop() {
  local dir
  dir="$(instance_dir "${1:-}")"
  if [ -z "$dir" ]; then
    echo "No PostgreSQL test instance to stop (COORDINATION_TEST_POSTGRES_DIR is not set)." >&2
    return 0
  fi
  if [ ! -d "$dir" ]; then
    echo "The PostgreSQL test instance $dir is already gone." >&2
    return 0
  fi
  load_state "$dir"
  cd /
  stop_server
  remove_dir
  echo "Stopped the PostgreSQL test instance and removed $DIR." >&2
}

[ "$#" -ge 1 ] || usage
command="$1"
shift
[ "$#" -le 1 ] || usage
case "$command" in
  start) [ "$#" -eq 0 ] || usage; cmd_start ;;
  restart) cmd_restart "$@" ;;
  status) cmd_status "$@" ;;
  stop) cmd_stop "$@" ;;
  *) usage ;;
esac
