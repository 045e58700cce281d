#!/usr/bin/env bash
# `make up`: prepares the machine (packages, PostgreSQL, Redis), builds the release binaries,
# brings the four local stores up to date, seeds them, then starts the four subgraphs, the
# gateway, the two MCP servers (content :4101, sales :4102) and the agenda worker (:4200) in the
# background (logs and pids in .dev/) and waits until each is ready; then n8n with the ETL workflow
# active, and runs the ETL once.
# `make down` stops them.
#
# PROMPTSALES_TLS=1 runs every process on https (TLS 1.3): a local CA and one certificate per
# service are written to .dev/tls by `promptsales certs` when absent, and the gateway reaches the
# subgraphs and the authorization server's JWKS over TLS, trusting that CA (docs/security.md).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

step "services and tools"
eval "$(scripts/dev-services.sh)"

step "build (release)"
# With the content benchmark (scripts/bench-content.sh): one feature set, built once for both.
cargo build --release --locked --bin promptsales --bin promptsales-gateway \
  --bin promptsales-content --bin promptsales-ads --bin promptsales-crm --bin promptsales-sales \
  --bin promptsales-mcp-sales --bin promptsales-mcp-content --bin promptsales-worker --example bench

scheme=http
if [ "${PROMPTSALES_TLS:-0}" = 1 ]; then
  scheme=https
  if [ ! -f .dev/tls/ca.pem ]; then
    step "TLS certificates (.dev/tls)"
    target/release/promptsales certs --out .dev/tls
  elif [ ! -f .dev/tls/mcp-sales.pem ] || [ ! -f .dev/tls/mcp-content.pem ] || [ ! -f .dev/tls/worker.pem ]; then
    # A set from before the MCP servers and the worker served TLS: a new CA and set (trust it again).
    step "TLS certificates (.dev/tls, a new set: trust the new .dev/tls/ca.pem)"
    target/release/promptsales certs --out .dev/tls --force
  fi
  export PROMPTSALES_TLS_CA="$PWD/.dev/tls/ca.pem"
fi
# `curl` for the readiness probes, trusting the local CA on https.
get_url() { if [ "$scheme" = https ]; then curl --cacert .dev/tls/ca.pem "$@"; else curl "$@"; fi; }

step "migrate the four local stores"
target/release/promptsales migrate
# One least-privilege role per service (passwords in .dev/roles/); see docs/security-data.md.
target/release/promptsales roles apply

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
# The stack's own Redis (the machine's, on 6379, is left as it is): AUTH with a generated
# password (.dev/redis-password, mode 600) and a memory bound with LRU eviction, as fits a
# cache (every key the gateway writes has a TTL; an evicted one only costs a recomputation).
# Loopback only. `make down` stops it.
redis_port=${PROMPTSALES_STACK_REDIS_PORT:-6380}
if [ ! -s .dev/redis-password ]; then
  (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .dev/redis-password)
fi
redis_password=$(cat .dev/redis-password)
(umask 077; cat > .dev/redis.conf <<CONF
bind 127.0.0.1
port $redis_port
requirepass $redis_password
maxmemory ${PROMPTSALES_STACK_REDIS_MAXMEMORY:-256mb}
maxmemory-policy allkeys-lru
save ""
appendonly no
dir $PWD/.dev
logfile $PWD/.dev/logs/redis.log
CONF
)
nohup redis-server .dev/redis.conf > /dev/null 2>&1 &
echo $! > .dev/pids/redis
for _ in $(seq 1 40); do
  REDISCLI_AUTH=$redis_password redis-cli -p "$redis_port" ping > /dev/null 2>&1 && break
  sleep 0.25
done
REDISCLI_AUTH=$redis_password redis-cli -p "$redis_port" ping > /dev/null \
  || { echo "the stack's Redis did not start on port $redis_port (see .dev/logs/redis.log)" >&2; exit 1; }
export PROMPTSALES_REDIS_URL="redis://:$redis_password@127.0.0.1:$redis_port"
# Local exploration: the gateway trusts the dev authorization server (`promptsales auth`, :4400)
# and checks every token it is sent, but a request without one still runs, as a staff member
# with these read scopes (personal data masked), so GraphiQL works out of the box
# (`required: false`; deployments keep the default, `required: true`). Mutations and reads of
# personal data are written to the audit log in the promptsales database.
# Introspection is off unless a configuration turns it on; GraphiQL needs it, so the local stack does.
subgraph_urls=""
if [ "$scheme" = https ]; then
  # The supergraph names the subgraphs' http:// URLs; on https they are replaced here.
  subgraph_urls="  subgraph_urls:
    content: https://127.0.0.1:4001/graphql
    ads: https://127.0.0.1:4002/graphql
    crm: https://127.0.0.1:4003/graphql
    sales: https://127.0.0.1:4004/graphql"
fi
cat > .dev/gateway.yaml <<YAML
gateway:
  introspection: true
$subgraph_urls
http:
  anonymous_scopes: [ads:read, content:read, crm:read, sales:read]
auth:
  required: false
  issuers:
    - issuer: $scheme://127.0.0.1:4400
      audiences: [promptsales-gateway]
      jwks_url: $scheme://127.0.0.1:4400/jwks.json
      algorithms: [ES256]
audit: {}
# Redis at PROMPTSALES_REDIS_URL (the stack's own, with AUTH): responses cached (x-cache), persisted queries,
# and a rate limit generous enough for exploring, scripts and scripts/bench-cache.sh.
# (bench-cache.sh cuts the file at the line above to start an uncached twin.)
cache: {}
apq: {}
rate_limit:
  requests: 60000
  window_secs: 60
YAML
start() { # name port command...
  local name=$1 port=$2; shift 2
  if [ "$scheme" = https ]; then
    PROMPTSALES_TLS_CERT=".dev/tls/$name.pem" PROMPTSALES_TLS_KEY=".dev/tls/$name-key.pem" \
      PORT=$port nohup "$@" > ".dev/logs/$name.log" 2>&1 &
  else
    PORT=$port nohup "$@" > ".dev/logs/$name.log" 2>&1 &
  fi
  echo $! > ".dev/pids/$name"
}
# Each service connects as its own least-privilege role (`promptsales roles apply` above), so a
# subgraph can read and write only its own store. The gateway keeps the owner role: its audit
# writer creates and drops the audit log's monthly partitions.
role_url() { # service database
  local role=promptsales_$1
  printf 'postgres://%s:%s@127.0.0.1:5432/%s' "$role" "$(cat ".dev/roles/$role.password")" "$2"
}
start auth 4400 env PROMPTSALES_SALES_URL="$(role_url auth promptsales)" \
  target/release/promptsales auth --port 4400
# The content subgraph runs the embedding model from .tools/models (scripts/dev-services.sh fetched
# it) and keeps its image search index in .dev/index (rebuilt there when missing or stale).
# Image URLs are absolute, on the gateway, which serves the bytes as the caller (/images/{id}).
start content 4001 env PROMPTSALES_CONTENT_URL="$(role_url content promptcontent)" \
  PROMPTSALES_CONTENT_PUBLIC_URL="$scheme://127.0.0.1:4000" \
  PROMPTSALES_EMBED_MODEL_DIR="$PWD/.tools/models/all-MiniLM-L6-v2" PROMPTSALES_CONTENT_INDEX_DIR="$PWD/.dev/index/content" \
  target/release/promptsales-content
start ads 4002 env PROMPTSALES_ADS_URL="$(role_url ads promptads)" target/release/promptsales-ads
start crm 4003 env PROMPTSALES_CRM_URL="$(role_url crm promptcrm)" target/release/promptsales-crm
start sales 4004 env PROMPTSALES_SALES_URL="$(role_url sales promptsales)" target/release/promptsales-sales
start gateway 4000 target/release/promptsales-gateway --config .dev/gateway.yaml
# The sales MCP server: streamable HTTP at :4102/mcp (https with PROMPTSALES_TLS=1; every request
# brings its bearer token, forwarded to the gateway). It never touches a database; its answer
# cache is the stack's Redis.
start mcp-sales 4102 env PROMPTSALES_MCP_TRANSPORT=http PROMPTSALES_GATEWAY_URL="$scheme://127.0.0.1:4000/graphql" \
  target/release/promptsales-mcp-sales
# The content MCP server, the same way, at :4101/mcp.
start mcp-content 4101 env PROMPTSALES_MCP_TRANSPORT=http PROMPTSALES_GATEWAY_URL="$scheme://127.0.0.1:4000/graphql" \
  target/release/promptsales-mcp-content
# The agenda worker (worker/README.md): its own OAuth2 client `worker`, created or repaired on
# every run (secret in .dev/worker-client-secret, mode 600), with the scopes its steps need;
# reminders and alerts go to its log (.dev/logs/worker.log) unless PROMPTSALES_WORKER_SINK names a webhook.
target/release/promptsales auth local-client --id worker --scopes "ads:read ads:write" \
  --secret-file .dev/worker-client-secret > /dev/null
start worker 4200 env PROMPTSALES_SALES_URL="$(role_url worker promptsales)" \
  PROMPTSALES_GATEWAY_URL="$scheme://127.0.0.1:4000/graphql" PROMPTSALES_WORKER_GRANT_URL="$scheme://127.0.0.1:4400/token" \
  PROMPTSALES_WORKER_CLIENT_ID=worker PROMPTSALES_WORKER_CLIENT_SECRET="$(cat .dev/worker-client-secret)" \
  target/release/promptsales-worker
for entry in auth:4400:healthz content:4001:readyz ads:4002:readyz crm:4003:readyz sales:4004:readyz gateway:4000:readyz mcp-sales:4102:readyz mcp-content:4101:readyz worker:4200:readyz; do
  IFS=: read -r name port probe <<< "$entry"
  for _ in $(seq 1 100); do
    probe_scheme=$scheme
    if [ "$probe_scheme" = https ]; then get_url -fsS "https://127.0.0.1:$port/$probe" > /dev/null 2>&1 && break
    else curl -fsS "http://127.0.0.1:$port/$probe" > /dev/null 2>&1 && break; fi
    if ! kill -0 "$(cat ".dev/pids/$name")" 2> /dev/null; then
      echo "$name stopped while starting; its log, .dev/logs/$name.log, ends with:" >&2
      tail -n 20 ".dev/logs/$name.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  if [ "$probe_scheme" = https ]; then ready_cmd=(get_url -fsS "https://127.0.0.1:$port/$probe"); else ready_cmd=(curl -fsS "http://127.0.0.1:$port/$probe"); fi
  "${ready_cmd[@]}" > /dev/null || { echo "$name is not ready on port $port (see .dev/logs/$name.log)" >&2; exit 1; }
done

# The ETL: the n8n workflow in etl/ (issue #15), imported with its credentials (the sales store as
# the etl role, the stack's Redis for its lock, the `etl` OAuth2 client) and active, so n8n runs it
# every 11 minutes; then run once now, until caught up, so the summaries are filled on a fresh stack.
step "the ETL (n8n :5678, every 11 minutes) and its first load"
etl_env=(env PROMPTSALES_ETL_SALES_URL="$(role_url etl promptsales)"
  PROMPTSALES_REDIS_URL="$PROMPTSALES_REDIS_URL"
  PROMPTSALES_GATEWAY_URL="$scheme://127.0.0.1:4000/graphql"
  PROMPTSALES_ETL_TOKEN_URL="$scheme://127.0.0.1:4400/token")
"${etl_env[@]}" target/release/promptsales etl install
nohup "${etl_env[@]}" target/release/promptsales etl serve > .dev/logs/n8n.log 2>&1 &
echo $! > .dev/pids/n8n
"${etl_env[@]}" target/release/promptsales etl run-once --until-caught-up

cat <<TXT

PromptSales is up on this machine:
  GraphiQL    $scheme://127.0.0.1:4000/          (the gateway: the whole graph, one endpoint)
  GraphQL     $scheme://127.0.0.1:4000/graphql
  Subgraphs   content :4001, ads :4002, crm :4003, sales :4004 (logs in .dev/logs; make down stops all)
  OAuth2      $scheme://127.0.0.1:4400 (dev authorization server; see docs/auth.md)
  MCP sales   $scheme://127.0.0.1:4102/mcp (streamable HTTP; Authorization: Bearer <token> with
              ads:read sales:read sales:write — see README "Connect an AI assistant")
  MCP content $scheme://127.0.0.1:4101/mcp (getContent, draftCampaignMessages; a portal user's token with
              content:read content:write sales:write). A client configuration:
                {"mcpServers": {"promptsales-content": {"url": "$scheme://127.0.0.1:4101/mcp",
                  "headers": {"Authorization": "Bearer <TOKEN>"}}}}
  Worker      agenda worker: $scheme://127.0.0.1:4200/metrics (queue depth, lag, failures); sends to .dev/logs/worker.log
  ETL         http://127.0.0.1:5678 (n8n: the workflow runs every 11 minutes; on demand:
              target/release/promptsales etl run-once; see etl/README.md)
$([ "$scheme" = https ] && echo "  TLS         1.3 only; trust .dev/tls/ca.pem (curl --cacert, PROMPTSALES_TLS_CA, the browser's store)")

Without a token GraphiQL runs with the read scopes (personal data masked). For other scopes, get a
token and send it in GraphiQL's Headers tab as {"Authorization": "Bearer <token>"}:
  eval "\$(scripts/dev-services.sh)"; target/release/promptsales token --scopes "ads:read crm:read crm:pii"
$([ "$scheme" = https ] && echo "  (on https: PROMPTSALES_TLS_CA=.dev/tls/ca.pem target/release/promptsales token --auth-url https://127.0.0.1:4400 ...)")
  PostgreSQL  127.0.0.1:5432  databases promptcontent, promptads, promptcrm, promptsales
              (role promptsales; its generated password is in .dev/pg-password)
  Redis       127.0.0.1:$redis_port (the stack's own: AUTH, password in .dev/redis-password; 256 MB, LRU)

Look around:  psql "postgres://promptsales@127.0.0.1:5432/promptads" -c '\dt ads.*'
              (export PGPASSWORD="\$(cat .dev/pg-password)" first on a machine with password login)
Operator CLI: target/release/promptsales --help
TXT
