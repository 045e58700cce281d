#!/usr/bin/env bash
# The ETL's figures on the full seed (issue #15): the first full load, then a delta run after 1 % of
# the ad results changed. Prints a table; a benchmark, never part of `make test`.
#
# It builds nothing: it needs the release binaries (`make up` builds them, or
# `cargo build --release --bin promptsales --bin promptsales-gateway --bin promptsales-ads
#  --bin promptsales-crm --bin promptsales-sales --bin promptsales-content`; BIN=dir picks others).
# Everything runs apart from `make up`'s stack: four databases named etlbench_<random>_<store>
# (migrated, seeded with the full profile, dropped at the end), the subgraphs, the authorization
# server and the gateway on free ports, a key prefix of its own on the machine's Redis, and n8n's
# own folder. PGPASSWORD must let the promptsales role in (eval "$(scripts/dev-services.sh)").
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/release}
for b in promptsales promptsales-gateway promptsales-content promptsales-ads promptsales-crm promptsales-sales; do
  [ -x "$bin/$b" ] || { echo "no $bin/$b: build the release binaries first (see the comment at the top)" >&2; exit 1; }
done
[ -n "${PGPASSWORD:-}" ] || { echo 'PGPASSWORD is not set: eval "$(scripts/dev-services.sh)" first' >&2; exit 1; }
set -a; . .dev/keys.env; set +a

tag="etlbench_$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
work=$(mktemp -d)
pids=()
db() { printf 'postgres://promptsales@127.0.0.1:5432/%s_%s' "$tag" "$1"; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  for s in content ads crm sales; do
    psql -X -q -h 127.0.0.1 -U promptsales -d postgres -c "DROP DATABASE IF EXISTS ${tag}_$s WITH (FORCE)" || true
  done
  redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "ps:$tag:*" | xargs -r redis-cli -h 127.0.0.1 -p 6379 DEL > /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export PROMPTSALES_CONTENT_URL=$(db content) PROMPTSALES_ADS_URL=$(db ads) PROMPTSALES_CRM_URL=$(db crm) \
  PROMPTSALES_SALES_URL=$(db sales) PROMPTSALES_REDIS_URL=redis://127.0.0.1:6379

echo "migrating and seeding the full profile into ${tag}_* (a minute or two)" >&2
"$bin/promptsales" migrate > "$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }
"$bin/promptsales" seed --profile full > "$work/seed.log" 2>&1 || { tail -n 20 "$work/seed.log" >&2; exit 1; }

declare -A port
for name in content ads crm sales auth gateway; do port[$name]=$(free_port); done
serve() { # name command...
  local name=$1; shift
  PORT=${port[$name]} "$@" > "$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:${port[$name]}/healthz" > /dev/null 2>&1 && return
    sleep 0.2
  done
  echo "$name did not start; its log ends with:" >&2; tail -n 20 "$work/$name.log" >&2; exit 1
}
serve content "$bin/promptsales-content"
serve ads "$bin/promptsales-ads"
serve crm "$bin/promptsales-crm"
serve sales "$bin/promptsales-sales"
serve auth "$bin/promptsales" auth --port "${port[auth]}"
cat > "$work/gateway.yaml" <<YAML
gateway:
  subgraph_urls:
    content: http://127.0.0.1:${port[content]}/graphql
    ads: http://127.0.0.1:${port[ads]}/graphql
    crm: http://127.0.0.1:${port[crm]}/graphql
    sales: http://127.0.0.1:${port[sales]}/graphql
auth:
  issuers:
    - issuer: http://127.0.0.1:${port[auth]}
      audiences: [promptsales-gateway]
      jwks_url: http://127.0.0.1:${port[auth]}/jwks.json
      algorithms: [ES256]
cache:
  redis:
    prefix: "ps:$tag:"
YAML
serve gateway "$bin/promptsales-gateway" --config "$work/gateway.yaml"

etl() {
  "$bin/promptsales" etl run-once --until-caught-up --n8n-folder "$work/n8n" --dev-dir "$work" \
    --gateway-url "http://127.0.0.1:${port[gateway]}/graphql" --token-url "http://127.0.0.1:${port[auth]}/token" \
    --lock-key "ps:$tag:lock:etl" --lag-secs 0
}
echo "first full load" >&2
start=$(date +%s.%N); etl | tee "$work/first.txt" >&2; first=$(echo "$(date +%s.%N) - $start" | bc)
changed=$(psql -X -qtA -d "$PROMPTSALES_ADS_URL" -c "
  WITH c AS (UPDATE ads.ad_results SET views = views + 1
              WHERE (ad_id, channel_id, market_id, day) IN (
                    SELECT ad_id, channel_id, market_id, day FROM ads.ad_results WHERE deleted_at IS NULL
                     ORDER BY md5(ad_id::text || day::text) LIMIT (SELECT count(*) / 100 FROM ads.ad_results))
              RETURNING 1)
  SELECT count(*) FROM c")
echo "delta after $changed ad results changed (1 %)" >&2
start=$(date +%s.%N); etl | tee "$work/delta.txt" >&2; delta=$(echo "$(date +%s.%N) - $start" | bc)
pipeline() { sed -n 's/.* \([0-9.]*\) s in the pipeline.*/\1/p' "$1" | paste -sd+ | bc; }

printf '\n%-40s %14s %22s\n' "ETL on the full seed" "pipeline (s)" "with n8n's start (s)"
printf '%-40s %14.1f %22.1f\n' "first full load" "$(pipeline "$work/first.txt")" "$first"
printf '%-40s %14.1f %22.1f\n' "delta after a 1 % change ($changed rows)" "$(pipeline "$work/delta.txt")" "$delta"
