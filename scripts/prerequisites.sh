# Shared checks for run-server.sh and run-tests.sh. Sourced, not executed.
# Each check installs what is missing when it can (root with apt-get, or password-less sudo)
# and otherwise stops with the exact command to run.

die() {
  echo "error: $*" >&2
  exit 1
}

# Runs a command as root: directly when root, through password-less sudo otherwise; returns 1 if neither works.
as_root() {
  if [ "$(id -u)" = "0" ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo "$@"
  else
    return 1
  fi
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$APT_UPDATED" = "0" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

require_dotnet() {
  command -v dotnet >/dev/null 2>&1 \
    || die "the .NET SDK 10 is not installed. See https://learn.microsoft.com/dotnet/core/install/linux-debian (Debian: sudo apt-get install -y dotnet-sdk-10.0)."
  local major
  major="$(dotnet --version 2>/dev/null | cut -d. -f1)"
  [ "${major:-0}" -ge 10 ] || die "the .NET SDK 10 or later is needed (found $(dotnet --version 2>/dev/null))."
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
}

has_libsodium() {
  local dir
  for dir in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib /lib/x86_64-linux-gnu; do
    if ls "$dir"/libsodium.so.2[3-9]* >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}

require_libsodium() {
  has_libsodium && return 0
  echo "libsodium (1.0.18 or later) is missing; installing libsodium23 with apt-get..." >&2
  if apt_install libsodium23 && has_libsodium; then
    return 0
  fi
  die "libsodium is not installed and could not be installed automatically. Run:
  sudo apt-get update && sudo apt-get install -y libsodium23"
}

# Node.js 18 or later and npm (installed with apt-get when missing). $1 says what needs them.
require_node() {
  local major
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "Node.js and npm are missing (needed by $1); installing nodejs and npm with apt-get..." >&2
    if ! apt_install nodejs npm || ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
      die "Node.js 18 or later and npm are not installed and could not be installed automatically. Run:
  sudo apt-get update && sudo apt-get install -y nodejs npm"
    fi
  fi
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  [ "${major:-0}" -ge 18 ] || die "Node.js 18 or later is needed by $1 (found $(node --version 2>/dev/null)). See https://nodejs.org/en/download/package-manager."
}

# npm_ci DIR WHAT: installs the npm packages of DIR (relative to the repository) at the versions
# pinned in its package-lock.json: `npm ci` when node_modules is missing or older than the lockfile.
npm_ci() {
  local root dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  dir="$root/$1"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    require_node "$2"
    echo "Installing the npm packages of $2 (npm ci in $1)..." >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) \
      || die "npm ci failed in $dir. Run:
  (cd $1 && npm ci --no-audit --no-fund)"
  fi
}

# Node.js and npm for the interop tests (tests/interop/node), and their npm packages.
require_node_modules() {
  require_node "the interop tests"
  npm_ci tests/interop/node "the interop tests"
}

# libsodium-wrappers for the web intake page (/intake/{id}), which the server serves from
# src/Coordination.Server/IntakePage/web/node_modules; nothing from npm is committed.
require_intake_page_modules() {
  npm_ci src/Coordination.Server/IntakePage/web "the web intake page"
}

# Debian's Chromium for the browser tests (tests/Coordination.Browser.Tests); Playwright drives it
# at /usr/bin/chromium (or $CHROMIUM_PATH) and never downloads a browser of its own.
require_chromium() {
  local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [ -x "$chromium" ] && return 0
  echo "Chromium is missing (needed by the browser tests); installing chromium with apt-get..." >&2
  if apt_install chromium && [ -x "$chromium" ]; then
    return 0
  fi
  die "Chromium is not installed at $chromium and could not be installed automatically. Run:
  sudo apt-get update && sudo apt-get install -y chromium"
}

# Prints the directory of the newest PostgreSQL server binaries installed from Debian
# (/usr/lib/postgresql/<version>/bin, with initdb, pg_ctl, postgres and psql); returns 1 if none.
postgres_bin_dir() {
  local dir found=""
  while IFS= read -r dir; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && [ -x "$dir/psql" ]; then
      found="$dir"
    fi
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
  [ -n "$found" ] || return 1
  echo "$found"
}

# Debian's PostgreSQL server for the PostgreSQL test pass (scripts/postgres-instance.sh). Only its
# binaries are used: the tests run a throwaway instance of their own, never the Debian cluster.
# Sets POSTGRES_BIN to the binaries' directory.
require_postgres() {
  if POSTGRES_BIN="$(postgres_bin_dir)"; then
    return 0
  fi
  echo "PostgreSQL is missing (needed by the PostgreSQL test pass); installing postgresql with apt-get..." >&2
  if apt_install postgresql && POSTGRES_BIN="$(postgres_bin_dir)"; then
    return 0
  fi
  die "PostgreSQL is not installed and could not be installed automatically. Run:
  sudo apt-get update && sudo apt-get install -y postgresql"
}
