#!/usr/bin/env bash
# `make up`: prepares the machine (packages, PostgreSQL, Redis), builds the release binaries,
# brings the four local stores up to date, seeds them, then starts the four subgraphs and the
# gateway in the background (logs and pids in .dev/) and waits until each is ready.
# `make down` stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

step "services and tools"
eval "$(scripts/dev-services.sh)"

step "build (release)"
cargo build --release --locked --bin promptsales --bin promptsales-gateway \
  --bin promptsales-content --bin promptsales-ads --bin promptsales-crm --bin promptsales-sales

step "migrate the four local stores"
target/release/promptsales migrate

step "seed the stores (full profile: 1,000 campaigns, 500,000 customers)"
# A store that already holds data is left alone (`promptsales seed --reset` reloads it).
if ! target/release/promptsales seed 2> >(tee .dev/seed.log >&2); then
  if grep -q "already holds data" .dev/seed.log; then
    echo "the stores already hold data: kept (run target/release/promptsales seed --reset to reload)"
  else
    exit 1
  fi
fi

step "start the subgraphs and the gateway"
scripts/down.sh --quiet
mkdir -p .dev/logs .dev/pids
# Local exploration: the gateway trusts the dev authorization server (`promptsales auth`, :4400)
# and checks every token it is sent, but a request without one still runs, as a staff member
# with these read scopes (personal data masked), so GraphiQL works out of the box
# (`required: false`; deployments keep the default, `required: true`). Mutations and reads of
# personal data are written to the audit log in the promptsales database.
cat > .dev/gateway.yaml <<YAML
http:
  anonymous_scopes: [ads:read, content:read, crm:read, sales:read]
auth:
  required: false
  issuers:
    - issuer: http://127.0.0.1:4400
      audiences: [promptsales-gateway]
      jwks_url: http://127.0.0.1:4400/jwks.json
      algorithms: [ES256]
audit: {}
YAML
start() { # name port command...
  local name=$1 port=$2; shift 2
  PORT=$port nohup "$@" > ".dev/logs/$name.log" 2>&1 &
  echo $! > ".dev/pids/$name"
}
start auth 4400 target/release/promptsales auth --port 4400
start content 4001 target/release/promptsales-content
start ads 4002 target/release/promptsales-ads
start crm 4003 target/release/promptsales-crm
start sales 4004 target/release/promptsales-sales
start gateway 4000 target/release/promptsales-gateway --config .dev/gateway.yaml
for entry in auth:4400:healthz content:4001:readyz ads:4002:readyz crm:4003:readyz sales:4004:readyz gateway:4000:readyz; do
  IFS=: read -r name port probe <<< "$entry"
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/$probe" > /dev/null 2>&1 && break
    if ! kill -0 "$(cat ".dev/pids/$name")" 2> /dev/null; then
      echo "$name stopped while starting; its log, .dev/logs/$name.log, ends with:" >&2
      tail -n 20 ".dev/logs/$name.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  curl -fsS "http://127.0.0.1:$port/$probe" > /dev/null || { echo "$name is not ready on port $port (see .dev/logs/$name.log)" >&2; exit 1; }
done

cat <<TXT

PromptSales is up on this machine:
  GraphiQL    http://127.0.0.1:4000/          (the gateway: the whole graph, one endpoint)
  GraphQL     http://127.0.0.1:4000/graphql
  Subgraphs   content :4001, ads :4002, crm :4003, sales :4004 (logs in .dev/logs; make down stops all)
  OAuth2      http://127.0.0.1:4400 (dev authorization server; see docs/auth.md)

Without a token GraphiQL runs with the read scopes (personal data masked). For other scopes, get a
token and send it in GraphiQL's Headers tab as {"Authorization": "Bearer <token>"}:
  eval "\$(scripts/dev-services.sh)"; target/release/promptsales token --scopes "ads:read crm:read crm:pii"
  PostgreSQL  127.0.0.1:5432  databases promptcontent, promptads, promptcrm, promptsales
              (role promptsales; its generated password is in .dev/pg-password)
  Redis       127.0.0.1:6379

Look around:  psql "postgres://promptsales@127.0.0.1:5432/promptads" -c '\dt ads.*'
              (export PGPASSWORD="\$(cat .dev/pg-password)" first on a machine with password login)
Operator CLI: target/release/promptsales --help
TXT
