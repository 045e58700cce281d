#!/usr/bin/env bash
# `make bench-cache`: what the Redis response cache buys. On the stack of `make up` (started if
# it is not running), the same queries at the same open-loop rate go to the gateway of `make up`
# (cache on, warmed: every measured request is an `x-cache: hit`) and to an uncached twin started
# here with the same configuration minus the Redis sections, in front of the same subgraphs.
# Prints requests per second and p50/p95/p99 for both, and their ratio. Figures only: it asserts
# nothing and is not part of `make test`.
#
# Settings (environment): BENCH_RATE (requests/s, default 300), BENCH_DURATION (s, 15),
# BENCH_WARMUP (s, 3), BENCH_ROUNDS (2), BENCH_FIND_MAX=1 (also the highest rate with p99 <=
# BENCH_P99_BOUND_MS, default 50, for each).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${BENCH_RATE:-300}
DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
ROUNDS=${BENCH_ROUNDS:-2}
FIND_MAX=${BENCH_FIND_MAX:-0}
P99_BOUND_MS=${BENCH_P99_BOUND_MS:-50}
TWIN_PORT=4130
out=.dev/bench-cache
mkdir -p "$out"
step() { printf '\n==> %s\n' "$*"; }

step "the local stack (make up)"
if [ -f .dev/tls/ca.pem ] && curl -fsS -m 2 --cacert .dev/tls/ca.pem https://127.0.0.1:4000/readyz > /dev/null 2>&1; then
  echo "the stack runs on https (PROMPTSALES_TLS=1): run this against a plain make up" >&2
  exit 1
fi
curl -fsS -m 2 http://127.0.0.1:4000/readyz > /dev/null 2>&1 || scripts/up.sh
grep -q '^cache:' .dev/gateway.yaml || { echo ".dev/gateway.yaml has no cache section: rerun make up" >&2; exit 1; }
eval "$(sed -e "s/^\([A-Z_]*\)=\(.*\)$/export \1='\2'/" .dev/keys.env)"
load=target/release/promptsales-load
[ -x "$load" ] || cargo build --release --locked -p promptsales-e2e --bin promptsales-load

step "an uncached twin of the gateway on :$TWIN_PORT"
sed '/^# Redis at PROMPTSALES_REDIS_URL/,$d' .dev/gateway.yaml > "$out/uncached.yaml"
PORT=$TWIN_PORT RUST_LOG=warn target/release/promptsales-gateway --config "$out/uncached.yaml" > "$out/twin.log" 2>&1 &
twin=$!
trap 'kill $twin 2> /dev/null || true; wait $twin 2> /dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fsS -m 1 "http://127.0.0.1:$TWIN_PORT/readyz" > /dev/null 2>&1 && break; sleep 0.2; done
curl -fsS -m 1 "http://127.0.0.1:$TWIN_PORT/readyz" > /dev/null || { tail -n 20 "$out/twin.log" >&2; exit 1; }

bodies=(--body-file e2e/bench/campaign-list.json --body-file e2e/bench/reference-data.json)
step "both answer the same, and the cached one from Redis"
for body in e2e/bench/campaign-list.json e2e/bench/reference-data.json; do
  a=$(curl -fsS -H 'content-type: application/json' --data-binary "@$body" http://127.0.0.1:4000/graphql | jq -S .)
  b=$(curl -fsS -H 'content-type: application/json' --data-binary "@$body" "http://127.0.0.1:$TWIN_PORT/graphql" | jq -S .)
  [ "$a" = "$b" ] || { echo "$body: the cached and the uncached gateway answer differently" >&2; exit 1; }
  verdict=$(curl -fsS -o /dev/null -D - -H 'content-type: application/json' --data-binary "@$body" http://127.0.0.1:4000/graphql |
    tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache" { print $2 }')
  echo "$(basename "$body" .json): identical answers; x-cache on the second request: ${verdict:-none}"
  [ "$verdict" = hit ] || { echo "expected x-cache: hit (is Redis running?)" >&2; exit 1; }
done

results=$out/results.jsonl
: > "$results"
for round in $(seq 1 "$ROUNDS"); do
  for which in cached uncached; do
    port=4000
    [ $which = uncached ] && port=$TWIN_PORT
    line=$("$load" --url "http://127.0.0.1:$port/graphql" "${bodies[@]}" --rate "$RATE" --duration "$DURATION" \
      --warmup "$WARMUP" --json --label "$which")
    line=$(jq -c --arg which $which --argjson round "$round" '. + {which: $which, round: $round}' <<< "$line")
    echo "$line" >> "$results"
    jq -r '"round \(.round) \(.which): \(.achieved_rps) req/s, p50 \(.p50_ms) p95 \(.p95_ms) p99 \(.p99_ms) ms, \(.errors) errors"' <<< "$line"
  done
done

if [ "$FIND_MAX" = 1 ]; then
  for which in cached uncached; do
    port=4000
    [ $which = uncached ] && port=$TWIN_PORT
    step "highest rate for $which with p99 <= $P99_BOUND_MS ms"
    "$load" --url "http://127.0.0.1:$port/graphql" "${bodies[@]}" --rate "$RATE" --duration 5 --warmup 1 \
      --find-max --p99-bound-ms "$P99_BOUND_MS" --label "$which"
  done
fi

step "results (median over $ROUNDS rounds; all runs in $results)"
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = lambda w, k: statistics.median(r[k] for r in rows if r["which"] == w)
print("| gateway | achieved rps | p50 ms | p95 ms | p99 ms | errors |")
print("|---|---:|---:|---:|---:|---:|")
for w in ("cached", "uncached"):
    print(f"| {w} | {med(w, 'achieved_rps'):.1f} | {med(w, 'p50_ms'):.2f} | {med(w, 'p95_ms'):.2f} | {med(w, 'p99_ms'):.2f} | {int(med(w, 'errors'))} |")
print("\ncached / uncached latency: " + ", ".join(
    f"{k[:-3]} {med('cached', k) / med('uncached', k):.2f}" for k in ("p50_ms", "p95_ms", "p99_ms")))
PY
