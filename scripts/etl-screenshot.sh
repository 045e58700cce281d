#!/usr/bin/env bash
# Draws etl/pipeline.png: the ETL workflow (etl/promptsales-etl.json) as n8n's editor draws it,
# photographed by Debian's headless chromium. Run it after changing the workflow and commit the
# picture with it (etl/README.md shows it).
#
# It starts a throwaway n8n (its own user folder and port, nothing shared with .dev/n8n), imports
# the workflow, creates the editor's owner account with a generated password, and serves the
# editor to chromium driven over the DevTools protocol (scripts/etl-screenshot.mjs) with that
# session's cookie. Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
n8n=.tools/n8n/node_modules/.bin/n8n
[ -x "$n8n" ] || { echo "n8n is not installed: run scripts/dev-services.sh" >&2; exit 1; }
command -v chromium > /dev/null || { echo "chromium is not installed: run scripts/dev-services.sh" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
export N8N_USER_FOLDER="$work" N8N_PORT="$port" N8N_LISTEN_ADDRESS=127.0.0.1 N8N_SECURE_COOKIE=false \
  N8N_DIAGNOSTICS_ENABLED=false N8N_VERSION_NOTIFICATIONS_ENABLED=false N8N_PERSONALIZATION_ENABLED=false \
  N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=true

"$n8n" import:workflow --input=etl/promptsales-etl.json > "$work/import.log" 2>&1 \
  || { cat "$work/import.log" >&2; exit 1; }
"$n8n" start > "$work/n8n.log" 2>&1 &
pids+=($!)
# /healthz answers while n8n still migrates its database; readiness waits for it.
for _ in $(seq 1 240); do curl -fsS "http://127.0.0.1:$port/healthz/readiness" > /dev/null 2>&1 && break; sleep 0.5; done
curl -fsS "http://127.0.0.1:$port/healthz/readiness" > /dev/null || { tail -n 30 "$work/n8n.log" >&2; exit 1; }
# …and the REST routes come a little later still ("n8n is starting up" until then).
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/rest/settings" 2> /dev/null | grep -q '"data"' && break
  sleep 0.5
done

# The owner account of this throwaway instance; n8n answers with the session cookie.
password="Ps-$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')9"
curl -fsS -c "$work/cookies" -H 'content-type: application/json' \
  -d "{\"email\":\"etl-picture@promptsales.test\",\"firstName\":\"ETL\",\"lastName\":\"Picture\",\"password\":\"$password\"}" \
  "http://127.0.0.1:$port/rest/owner/setup" > /dev/null
cookie=$(awk '$6 == "n8n-auth" { print $6 "=" $7 }' "$work/cookies")
[ -n "$cookie" ] || { echo "n8n gave no session cookie" >&2; exit 1; }

nodes=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["nodes"]))' etl/promptsales-etl.json)
node --experimental-websocket --no-warnings scripts/etl-screenshot.mjs \
  "http://127.0.0.1:$port" promptsalesEtl01 "${cookie#n8n-auth=}" "$nodes" "$PWD/etl/pipeline.png"
echo "wrote etl/pipeline.png"
