#!/bin/sh
# Entry point of the relay image. Reads the secrets that Compose (or any orchestrator) mounts as
# files into the settings the relay reads from its environment, then replaces itself with the
# relay, so the relay is PID 1 and receives SIGTERM directly.
#
#   Intake__Pepper_FILE            file with the intake pepper (base64 of 32 bytes)  -> Intake__Pepper
#   Metrics__Token_FILE            file with the metrics bearer secret                -> Metrics__Token
#   COORDINATION_DB_PASSWORD_FILE  file with the PostgreSQL password, appended to
#                                  ConnectionStrings__Coordination as ";Password=..."
#
# The values stay in the relay's process environment only: `docker inspect` shows the file paths,
# never the secrets. Arguments are passed to the relay (e.g. --Logging:LogLevel:Default=Warning).
set -eu

die() {
  echo "coordination-entrypoint: $*" >&2
  exit 1
}

# Prints the content of file $1 without its trailing newline; fails with a clear message.
read_secret() {
  [ -f "$1" ] || die "the secret file $1 does not exist."
  [ -r "$1" ] || die "the secret file $1 is not readable by uid $(id -u); make it owned by that uid (chown $(id -u) FILE; chmod 0400 FILE)."
  value="$(cat "$1")"
  [ -n "$value" ] || die "the secret file $1 is empty."
  printf '%s' "$value"
}

if [ -n "${Intake__Pepper_FILE:-}" ]; then
  [ -z "${Intake__Pepper:-}" ] || die "Intake__Pepper and Intake__Pepper_FILE are both set; set one."
  Intake__Pepper="$(read_secret "$Intake__Pepper_FILE")"
  export Intake__Pepper
  unset Intake__Pepper_FILE
fi

if [ -n "${Metrics__Token_FILE:-}" ]; then
  [ -z "${Metrics__Token:-}" ] || die "Metrics__Token and Metrics__Token_FILE are both set; set one."
  Metrics__Token="$(read_secret "$Metrics__Token_FILE")"
  export Metrics__Token
  unset Metrics__Token_FILE
fi

if [ -n "${COORDINATION_DB_PASSWORD_FILE:-}" ]; then
  [ -n "${ConnectionStrings__Coordination:-}" ] \
    || die "COORDINATION_DB_PASSWORD_FILE is set but ConnectionStrings__Coordination is not."
  case "$ConnectionStrings__Coordination" in
    *[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]=*) die "ConnectionStrings__Coordination already holds a password; remove it or COORDINATION_DB_PASSWORD_FILE." ;;
  esac
  password="$(read_secret "$COORDINATION_DB_PASSWORD_FILE")"
  # Kept out of any quoting rules of the connection string: generate it with `openssl rand -hex 32`.
  case "$password" in
    *[!A-Za-z0-9._~+/=-]*) die "the PostgreSQL password in $COORDINATION_DB_PASSWORD_FILE may only contain letters, digits and ._~+/=- (generate one with: openssl rand -hex 32)." ;;
  esac
  ConnectionStrings__Coordination="${ConnectionStrings__Coordination%;};Password=$password"
  export ConnectionStrings__Coordination
  unset COORDINATION_DB_PASSWORD_FILE password
fi

exec dotnet /app/Coordination.Server.dll "$@"
