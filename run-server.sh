#!/usr/bin/env bash
# Sets up and runs the Coordination server on its embedded default (SQLite under ./data).
# Extra arguments go to the server, e.g.: ./run-server.sh --urls http://127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

require_dotnet
require_libsodium
require_intake_page_modules

args=("$@")
case " ${args[*]-} " in
  *" --urls"*) ;;
  *) args+=(--urls "http://127.0.0.1:5080") ;;
esac
case " ${args[*]-} " in
  *"Storage:DataDirectory"*) ;;
  *) args+=(--Storage:DataDirectory "$PWD/data") ;;
esac

dotnet build src/Coordination.Server -c Release --nologo -v quiet
exec dotnet run --project src/Coordination.Server -c Release --no-build -- "${args[@]}"
