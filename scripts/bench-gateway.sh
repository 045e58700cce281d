#!/usr/bin/env bash
# `make bench-gateway`: our gateway and Hive Router side by side, over the same supergraph, the
# same queries and the same open-loop request rate, in two modes:
#   real  both gateways in front of the four subgraphs of `make up` (PostgreSQL behind them);
#   memo  both in front of promptsales-memo-subgraphs, which answers every subgraph request from
#         memory once warmed, so only the gateways' own work and HTTP are measured;
#   large the large-answer fixture (e2e/src/large.rs: products -> reviews -> authors -> their
#         reviews -> products, about 100 KB per answer) behind the memo subgraphs; no `make up`.
# The two gateways are measured in turn, alternating who goes first, for BENCH_ROUNDS rounds.
# It prints figures; it asserts nothing about speed and is not part of `make test`.
# docs/benchmarks.md says what is measured and how to read it.
#
# Settings (environment):
#   BENCH_RATE_REAL, BENCH_RATE_MEMO, BENCH_RATE_LARGE
#                                     requests/s scheduled in each mode     (defaults below)
#   BENCH_DURATION, BENCH_WARMUP      seconds measured / sent before measuring, per run
#   BENCH_ROUNDS                      rounds of (ours, hive) per mode and workload
#   BENCH_MODES                       "real memo" (default), any of real memo large
#   BENCH_WORKLOADS                   "mixed" (the three queries in turn) and/or
#                                     campaign-page campaign-list reference-data (real, memo);
#                                     the large mode always runs its one query, large-answer
#   BENCH_LOOPS                       "open" (constant rate), "closed" (BENCH_CLIENTS clients,
#                                     each sending when its previous request answered), or both
#   BENCH_CLIENTS                     clients of the closed loop
#   BENCH_DEDUPE                      "off", "on" (in-flight subgraph request deduplication on
#                                     both gateways), "all" (ours also shares identical queries
#                                     in flight; Hive Router has no such setting), or several
#   BENCH_OVERLOAD=1                  per gateway: resident memory under BENCH_RATE_* (open),
#                                     then under BENCH_OVERLOAD_CLIENTS in flight (closed loop),
#                                     then 5 s after it
#   BENCH_MAX_IN_FLIGHT               load generator concurrency cap
#   BENCH_GATEWAYS                    "ours hive", or "ours" alone (also the fallback when Hive
#                                     Router cannot be installed or started)
#   BENCH_SKIP_BUILD=1                benchmark the binaries already in target/release
#   BENCH_FIND_MAX=1                  also find, per gateway and mode, the highest rate of the
#                                     mixed workload with p99 <= BENCH_P99_BOUND_MS (slow)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

RATE_REAL=${BENCH_RATE_REAL:-50}
RATE_MEMO=${BENCH_RATE_MEMO:-400}
RATE_LARGE=${BENCH_RATE_LARGE:-100}
LOOPS=${BENCH_LOOPS:-open}
CLIENTS=${BENCH_CLIENTS:-32}
DEDUPE=${BENCH_DEDUPE:-off}
OVERLOAD=${BENCH_OVERLOAD:-0}
OVERLOAD_CLIENTS=${BENCH_OVERLOAD_CLIENTS:-256}
DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
ROUNDS=${BENCH_ROUNDS:-3}
MODES=${BENCH_MODES:-real memo}
WORKLOADS=${BENCH_WORKLOADS:-mixed}
MAX_IN_FLIGHT=${BENCH_MAX_IN_FLIGHT:-256}
GATEWAYS=${BENCH_GATEWAYS:-ours hive}
FIND_MAX=${BENCH_FIND_MAX:-0}
P99_BOUND_MS=${BENCH_P99_BOUND_MS:-50}
HIVE_VERSION=0.0.43
HIVE_ROOT=.tools/hive-router
SCOPES=ads:read,content:read,crm:read,sales:read
SUBGRAPHS=(content:4001 ads:4002 crm:4003 sales:4004)

out=.dev/bench
mkdir -p "$out/logs"
step() { printf '\n==> %s\n' "$*"; }

stack_ready() {
  for entry in "${SUBGRAPHS[@]}"; do
    curl -fsS -m 2 "http://127.0.0.1:${entry##*:}/readyz" > /dev/null 2>&1 || return 1
  done
}
if [[ " $MODES " == *" real "* || " $MODES " == *" memo "* ]]; then
  step "the local stack (make up)"
  if stack_ready; then
    echo "subgraphs answer on 4001-4004: using them"
  else
    echo "subgraphs are not all ready: running scripts/up.sh"
    scripts/up.sh
  fi
fi
# The subgraphs verify claims with this key; both the bench gateway and the load generator's
# pre-signed header for Hive Router must use the same one.
eval "$(sed -e "s/^\([A-Z_]*\)=\(.*\)$/export \1='\2'/" .dev/keys.env)"

hive=$HIVE_ROOT/bin/hive_router
with_hive() { [[ " $GATEWAYS " == *" hive "* ]]; }
if with_hive; then
  step "Hive Router $HIVE_VERSION"
  # cargo install records what it installed in the root's .crates.toml.
  if [ ! -x "$hive" ] || ! grep -q "hive-router $HIVE_VERSION " "$HIVE_ROOT/.crates.toml" 2> /dev/null; then
    echo "installing into $HIVE_ROOT (a release build from crates.io; several minutes)"
    if ! cargo install hive-router --version "$HIVE_VERSION" --locked --root "$HIVE_ROOT"; then
      echo "WARNING: Hive Router $HIVE_VERSION did not install (above); benchmarking our gateway alone" >&2
      GATEWAYS=ours
    fi
  fi
  echo "$hive"
fi

step "build the bench binaries (release)"
load=target/release/promptsales-load
bins=(target/release/promptsales-gateway "$load" target/release/promptsales-memo-subgraphs
  target/release/promptsales-bench-subgraphs)
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
  echo "BENCH_SKIP_BUILD=1: using the binaries already in target/release"
# Without e2e's default `stack` feature: the bench binaries do not need the four subgraph crates.
elif ! cargo build --release --locked -p promptsales-e2e -p promptsales-gateway --no-default-features --bins; then
  # A working tree in the middle of an edit should not stop a benchmark of what was last built,
  # but the figures must say so.
  for bin in "${bins[@]}"; do [ -x "$bin" ] || { echo "the build failed and $bin does not exist" >&2; exit 1; }; done
  echo "WARNING: the build failed (above); benchmarking the binaries already in target/release" >&2
fi
echo "gateway binary: $(date -u -r target/release/promptsales-gateway '+built %F %T UTC'), HEAD $(git rev-parse --short HEAD)"

# Pinning: the gateway under test gets CPU 1 to itself; everything else (subgraphs, PostgreSQL,
# memo subgraphs, the load generator) shares CPU 0. Affinities changed on the stack's processes
# are put back on exit.
cpus=$(nproc)
pin_gw=() pin_rest=() pinned_pids=()
if command -v taskset > /dev/null && [ "$cpus" -ge 2 ]; then
  pin_gw=(taskset -c 1) pin_rest=(taskset -c 0)
  for name in content ads crm sales gateway; do
    [ -f ".dev/pids/$name" ] && pinned_pids+=("$(cat ".dev/pids/$name")")
  done
  # PostgreSQL backends serving the stack's four databases (not the postmaster: backends of other
  # work, tests for instance, are forked from it and should not be squeezed onto CPU 0).
  pinned_pids+=($(pgrep -f '^postgres: [^:]*: [^ ]+ (promptcontent|promptads|promptcrm|promptsales) ' || true))
  for pid in "${pinned_pids[@]}"; do taskset -a -pc 0 "$pid" > /dev/null 2>&1 || true; done
  echo "pinned: gateway under test -> CPU 1; stack (${#pinned_pids[@]} processes), memo, load -> CPU 0"
else
  echo "no taskset or fewer than 2 CPUs: nothing pinned (figures are noisier)"
fi

started=()
cleanup() {
  for pid in "${started[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${started[@]}"; do wait "$pid" 2> /dev/null || true; done
  for pid in "${pinned_pids[@]}"; do taskset -a -pc "0-$((cpus - 1))" "$pid" > /dev/null 2>&1 || true; done
}
trap cleanup EXIT

CLK_TCK=$(getconf CLK_TCK)
# User plus system CPU time of a process so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2> /dev/null || echo 0; }
# Resident memory of a process now (VmRSS) and at its peak (VmHWM), in KiB; writing 5 to
# clear_refs starts a new peak from the current size, so each run has its own.
rss_kb() { awk -v k="${2:-VmRSS}:" '$1 == k {print $2}' "/proc/$1/status" 2> /dev/null || echo 0; }
reset_peak() { echo 5 > "/proc/$1/clear_refs" 2> /dev/null || true; }

wait_ready() { # name url pid
  for _ in $(seq 1 150); do
    curl -fsS -m 1 "$2" > /dev/null 2>&1 && return 0
    kill -0 "$3" 2> /dev/null || { echo "$1 exited; its log:" >&2; tail -n 30 "$out/logs/$1.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "$1 is not ready at $2" >&2
  exit 1
}

# Writes both gateways' configs for subgraph URL prefix $2 (port base) and starts them.
start_gateways() { # mode dedupe(off|on|all) ours_port hive_port supergraph name=url...
  local mode=$1 dedupe=$2 ours_port=$3 hive_port=$4 supergraph=$5
  shift 5
  local named=("$@") ours_dedupe=false ours_queries=false hive_dedupe=false entry
  [ "$dedupe" != off ] && ours_dedupe=true hive_dedupe=true
  [ "$dedupe" = all ] && ours_queries=true
  {
    echo "gateway:"
    echo "  dedupe_subgraph_requests: $ours_dedupe"
    echo "  dedupe_queries: $ours_queries"
    echo "  subgraph_urls:"
    for entry in "${named[@]}"; do echo "    ${entry%%=*}: ${entry#*=}"; done
  } > "$out/ours-$mode.yaml"
  cat >> "$out/ours-$mode.yaml" <<YAML
http:
  anonymous_scopes: [${SCOPES//,/, }]
  graphiql: false
supergraph:
  reload_interval_secs: 0
YAML
  cat > "$out/hive-$mode.yaml" <<YAML
# Hive Router $HIVE_VERSION, configured to do what our gateway does and nothing more.
supergraph:
  source: file
  path: $root/$supergraph
http:
  host: 127.0.0.1
  port: $hive_port
log:
  level: warn
graphiql:
  enabled: false
# The load generator sends a pre-signed claims header; subgraphs refuse requests without one.
headers:
  all:
    request:
      - propagate:
          named: x-promptsales-claims
# The subgraphs enforce @requiresScopes; our gateway does not check them either.
authorization:
  directives:
    enabled: false
# In-flight subgraph request deduplication as BENCH_DEDUPE says, like ours.
traffic_shaping:
  all:
    dedupe_enabled: $hive_dedupe
override_subgraph_urls:
YAML
  for entry in "${named[@]}"; do echo "  ${entry%%=*}: { url: \"${entry#*=}\" }"; done >> "$out/hive-$mode.yaml"
  PORT=$ours_port RUST_LOG=warn "${pin_gw[@]}" target/release/promptsales-gateway --supergraph "$supergraph" \
    --config "$out/ours-$mode.yaml" > "$out/logs/ours-$mode.log" 2>&1 &
  ours_pid=$!
  started+=("$ours_pid")
  wait_ready ours-$mode "http://127.0.0.1:$ours_port/readyz" "$ours_pid"
  hive_pid=
  with_hive || return 0
  ROUTER_CONFIG_FILE_PATH=$out/hive-$mode.yaml "${pin_gw[@]}" "$hive" > "$out/logs/hive-$mode.log" 2>&1 &
  hive_pid=$!
  started+=("$hive_pid")
  if ! (wait_ready hive-$mode "http://127.0.0.1:$hive_port/readiness" "$hive_pid"); then
    echo "WARNING: Hive Router did not start (its log is above); benchmarking our gateway alone" >&2
    kill "$hive_pid" 2> /dev/null || true
    GATEWAYS=ours
  fi
}

stop_gateways() {
  kill $ours_pid $hive_pid 2> /dev/null || true
  wait $ours_pid $hive_pid 2> /dev/null || true
}

post() { # url body-file [header]
  curl -sS -m 30 -H 'content-type: application/json' ${3:+-H "$3"} --data-binary "@$2" "$1"
}

results=$out/results.jsonl
: > "$results"
graphql_url() { echo "http://127.0.0.1:$1/graphql"; }

memo_stats() { curl -fsS http://127.0.0.1:$memo_stats_port/stats; }

# One measured run of the load generator against gateway $1 with workload $2 in loop $3 (open or
# closed), appended to the results with the gateway's CPU per request and peak resident memory.
measure() { # gw workload loop round clients
  local gw=$1 workload=$2 loop=$3 round=$4 clients=${5:-$CLIENTS}
  local url=$ours_gql extra=() pid=$ours_pid shape
  [ "$gw" = hive ] && url=$hive_gql extra=(--claims-scopes "$SCOPES") pid=$hive_pid
  shape=(--rate "$rate")
  [ "$loop" = closed ] && shape=(--closed-loop "$clients" --max-in-flight "$clients") || shape+=(--max-in-flight "$MAX_IN_FLIGHT")
  local misses_before=0 misses_after=0 cpu_before cpu_after line
  [ "$mode" != real ] && misses_before=$(memo_stats | jq .misses)
  reset_peak "$pid"
  cpu_before=$(cpu_ticks "$pid")
  line=$("${pin_rest[@]}" "$load" --url "$url" "${extra[@]}" "${bodies[@]}" "${shape[@]}" \
    --duration "$DURATION" --warmup "$WARMUP" --json --label "$gw")
  cpu_after=$(cpu_ticks "$pid")
  [ "$mode" != real ] && misses_after=$(memo_stats | jq .misses)
  # The gateway's CPU time (user + system) over the warm-up and the measured window, per request
  # (sent in the warm-up at the rate, plus answered in the window).
  line=$(jq -c --arg gw "$gw" --arg mode "$mode" --arg workload "$workload" --argjson round "$round" \
    --arg dedupe "$dedupe" --argjson memo_misses $((misses_after - misses_before)) \
    --argjson peak_rss_kb "$(rss_kb "$pid" VmHWM)" --argjson rss_kb "$(rss_kb "$pid")" \
    --argjson cpu_ms $(((cpu_after - cpu_before) * 1000 / CLK_TCK)) --argjson warmup "$WARMUP" \
    '. + {gateway: $gw, mode: $mode, workload: $workload, round: $round, dedupe: $dedupe,
          memo_misses: $memo_misses, peak_rss_kb: $peak_rss_kb, rss_kb: $rss_kb,
          cpu_us_per_request: ((($cpu_ms * 1000) / ([.ok + .errors + .rate * $warmup, 1] | max)) * 10 | round / 10)}' <<< "$line")
  echo "$line" >> "$results"
  jq -r '"\(.mode) \(.workload) \(.loop)\(if .clients then " \(.clients) clients" else "" end) dedupe \(.dedupe) round \(.round) \(.gateway): \(.achieved_rps) req/s, p50 \(.p50_ms) p95 \(.p95_ms) p99 \(.p99_ms) ms, \(.errors) errors, CPU \(.cpu_us_per_request) us/request, peak RSS \(.peak_rss_kb / 1024 | round) MB"' <<< "$line"
}

for mode in $MODES; do
  memo_pid= bench_pid=
  case $mode in
    real)
      rate=$RATE_REAL ours_port=4110 hive_port=4120 supergraph=supergraph/supergraph.graphql
      named=()
      for entry in "${SUBGRAPHS[@]}"; do named+=("${entry%%:*}=http://127.0.0.1:${entry##*:}/graphql"); done
      ;;
    memo)
      rate=$RATE_MEMO ours_port=4111 hive_port=4121 supergraph=supergraph/supergraph.graphql memo_stats_port=4201
      routes=() named=()
      for entry in "${SUBGRAPHS[@]}"; do
        port=${entry##*:}
        routes+=(--route "$((port + 200))=http://127.0.0.1:$port/graphql")
        named+=("${entry%%:*}=http://127.0.0.1:$((port + 200))/graphql")
      done
      ;;
    large)
      # The fixture subgraphs on 4301-4303, the memo subgraphs in front of them on 4311-4313.
      rate=$RATE_LARGE ours_port=4112 hive_port=4122 supergraph=.dev/bench/large-supergraph.graphql memo_stats_port=4311
      # Composed from the fixture's own SDL each run, with the project's pinned composer.
      target/release/promptsales-bench-subgraphs --compose-input | (cd supergraph && node compose.mjs) |
        jq -er .supergraph > "$supergraph" || { echo "composing the large-answer fixture failed" >&2; exit 1; }
      "${pin_rest[@]}" target/release/promptsales-bench-subgraphs --port-base 4301 > "$out/logs/bench-subgraphs.log" 2>&1 &
      bench_pid=$!
      started+=("$bench_pid")
      wait_ready bench-subgraphs http://127.0.0.1:4303/readyz "$bench_pid"
      routes=() named=()
      port=4301
      for name in products reviews people; do
        routes+=(--route "$((port + 10))=http://127.0.0.1:$port/graphql")
        named+=("$name=http://127.0.0.1:$((port + 10))/graphql")
        port=$((port + 1))
      done
      ;;
    *) echo "unknown mode $mode (real, memo, large)" >&2; exit 1 ;;
  esac
  if [ "$mode" != real ]; then
    "${pin_rest[@]}" target/release/promptsales-memo-subgraphs "${routes[@]}" > "$out/logs/memo-$mode.log" 2>&1 &
    memo_pid=$!
    started+=("$memo_pid")
    wait_ready memo "http://127.0.0.1:$memo_stats_port/readyz" "$memo_pid"
  fi
  if [ "$mode" = large ]; then
    queries=(large-answer)
    cp e2e/bench/large-answer.json "$out/"
    workloads=large-answer
  else
    queries=(campaign-page campaign-list reference-data)
    workloads=$WORKLOADS
  fi

  for dedupe in $DEDUPE; do
  step "$mode (dedupe $dedupe): start both gateways"
  start_gateways "$mode" "$dedupe" "$ours_port" "$hive_port" "$supergraph" "${named[@]}"
  ours_gql=$(graphql_url "$ours_port") hive_gql=$(graphql_url "$hive_port")

  # Real ids from the seeded stack, then one check that both gateways give the same answer.
  if [ "$mode" != large ] && [ -z "${campaign_id:-}" ]; then
    # The first of the 20 newest campaigns that has content requests, so all four subgraphs answer
    # with data (ids change when the stack is reseeded, hence every run).
    campaign_id=$(post "$ours_gql" <(echo '{"query":"{ campaigns(first: 20) { edges { node { id contentRequests { id } } } } }"}') |
      jq -r '[.data.campaigns.edges[].node] | (map(select(.contentRequests | length > 0)) + .)[0].id')
    [ -n "$campaign_id" ] && [ "$campaign_id" != null ] ||
      { echo "no campaign id from the gateway (is the stack seeded?)" >&2; exit 1; }
    sed "s/__CAMPAIGN_ID__/$campaign_id/" e2e/bench/campaign-page.json > "$out/campaign-page.json"
    cp e2e/bench/campaign-list.json e2e/bench/reference-data.json "$out/"
    echo "campaign page for campaign $campaign_id"
  fi
  claims="x-promptsales-claims: $("$load" --print-claims "$SCOPES")"
  for query in "${queries[@]}"; do
    a=$(post "$ours_gql" "$out/$query.json" | jq -S .)
    b=$a
    with_hive && b=$(post "$hive_gql" "$out/$query.json" "$claims" | jq -S .)
    if [ "$(jq 'has("errors")' <<< "$a")" = true ] || [ "$(jq 'has("errors")' <<< "$b")" = true ]; then
      echo "$query answers with errors: ours $(head -c 300 <<< "$a") / hive $(head -c 300 <<< "$b")" >&2
      exit 1
    fi
    same=$([ "$a" = "$b" ] && echo "identical answers" || echo "ANSWERS DIFFER (see $out/$query.*.json)")
    with_hive || same="(ours only)"
    printf '%s\n' "$a" > "$out/$query.ours.json"
    printf '%s\n' "$b" > "$out/$query.hive.json"
    echo "$query: $(post "$ours_gql" "$out/$query.json" | wc -c) bytes as sent, $same"
  done
  bodies=()
  for query in "${queries[@]}"; do bodies+=(--body-file "$out/$query.json"); done

  if [ "$mode" != real ]; then
    step "$mode: warm both gateways so every subgraph request they make is memoized"
    for gw in $GATEWAYS; do
      url=$ours_gql extra=()
      [ $gw = hive ] && url=$hive_gql extra=(--claims-scopes "$SCOPES")
      "${pin_rest[@]}" "$load" --url "$url" "${extra[@]}" --rate 50 --duration 2 --warmup 0 "${bodies[@]}" > /dev/null
    done
    memo_stats | jq -c '{hits, misses, entries}'
  fi

  for workload in $workloads; do
    case $workload in
      mixed) bodies=(--body-file "$out/campaign-page.json" --body-file "$out/campaign-list.json" --body-file "$out/reference-data.json") ;;
      campaign-page | campaign-list | reference-data | large-answer) bodies=(--body-file "$out/$workload.json") ;;
      *) echo "unknown workload $workload" >&2; exit 1 ;;
    esac
    for loop in $LOOPS; do
      for round in $(seq 1 "$ROUNDS"); do
        order=$GATEWAYS
        [ $((round % 2)) = 0 ] && order=$(echo "$GATEWAYS" | tr ' ' '\n' | tac | tr '\n' ' ')
        for gw in $order; do measure "$gw" "$workload" "$loop" "$round"; done
      done
    done
  done

  if [ "$OVERLOAD" = 1 ]; then
    # Memory under load and after overload, per gateway: the open loop at the mode's rate, then
    # OVERLOAD_CLIENTS clients in a closed loop, then resident memory once it has settled.
    for gw in $GATEWAYS; do
      pid=$ours_pid
      [ $gw = hive ] && pid=$hive_pid
      step "$mode: memory of $gw under load and overload ($OVERLOAD_CLIENTS in flight)"
      measure "$gw" overload-before open 1
      measure "$gw" overload closed 1 "$OVERLOAD_CLIENTS"
      sleep 5
      jq -nc --arg gw "$gw" --arg mode "$mode" --arg dedupe "$dedupe" --argjson rss_kb "$(rss_kb "$pid")" \
        '{gateway: $gw, mode: $mode, dedupe: $dedupe, workload: "overload-after", rss_kb: $rss_kb}' | tee -a "$results"
    done
  fi

  if [ "$FIND_MAX" = 1 ]; then
    # One search per gateway and round, in alternating order: a single search can end early on
    # one stall of the machine, so the table shows the median.
    for round in $(seq 1 "$ROUNDS"); do
      order=$GATEWAYS
      [ $((round % 2)) = 0 ] && order=$(echo "$GATEWAYS" | tr ' ' '\n' | tac | tr '\n' ' ')
      for gw in $order; do
        url=$ours_gql extra=()
        [ $gw = hive ] && url=$hive_gql extra=(--claims-scopes "$SCOPES")
        step "$mode: highest rate for $gw with p99 <= $P99_BOUND_MS ms (round $round)"
        line=$("${pin_rest[@]}" "$load" --url "$url" "${extra[@]}" "${bodies[@]}" --rate "$((rate / 2))" \
          --duration 5 --warmup 1 --max-in-flight "$MAX_IN_FLIGHT" --find-max --p99-bound-ms "$P99_BOUND_MS" \
          --json --label "$gw $mode")
        line=$(jq -c --arg gw $gw --arg mode "$mode" --argjson round "$round" --arg dedupe "$dedupe" \
          '. + {gateway: $gw, mode: $mode, workload: "find-max", round: $round, dedupe: $dedupe}' <<< "$line")
        echo "$line" >> "$results"
        jq -r '"highest rate for \(.gateway): \(.max_rate // 0 | round) req/s"' <<< "$line"
      done
    done
  fi

  stop_gateways
  done
  if [ -n "$memo_pid" ]; then
    echo "memo subgraphs: $(memo_stats | jq -c '{hits, misses, entries}')"
    kill "$memo_pid" 2> /dev/null || true
    wait "$memo_pid" 2> /dev/null || true
  fi
  if [ -n "$bench_pid" ]; then
    kill "$bench_pid" 2> /dev/null || true
    wait "$bench_pid" 2> /dev/null || true
  fi
done

step "results (median over $ROUNDS rounds; all runs in $results)"
python3 - "$results" "$cpus" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
maxima = [r for r in rows if r["workload"] == "find-max"]
overload = [r for r in rows if r["workload"].startswith("overload")]
rows = [r for r in rows if r["workload"] != "find-max" and not r["workload"].startswith("overload")]
groups = {}
for r in rows:
    key = (r["mode"], r["workload"], r.get("loop", "open") + (f" {r['clients']}" if r.get("clients") else ""), r.get("dedupe", "off"))
    groups.setdefault(key, {}).setdefault(r["gateway"], []).append(r)
med = lambda runs, k: statistics.median(r.get(k, float("nan")) for r in runs)
mb = lambda kb: kb / 1024
print(f"{sys.argv[2]} CPUs; gateway under test pinned to CPU 1 when taskset is available\n")
print("| mode | workload | loop | dedupe | gateway | rate | achieved rps | p50 ms | p95 ms | p99 ms | max ms | errors | CPU us/req | peak RSS MB |")
print("|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
ratios = []
for (mode, workload, loop, dedupe), by_gw in groups.items():
    for gw in ("ours", "hive"):
        runs = by_gw.get(gw)
        if not runs:
            continue
        rate = "-" if loop.startswith("closed") else f"{runs[0]['rate']:.0f}"
        print(f"| {mode} | {workload} | {loop} | {dedupe} | {gw} | {rate} | {med(runs, 'achieved_rps'):.1f} | "
              f"{med(runs, 'p50_ms'):.2f} | {med(runs, 'p95_ms'):.2f} | {med(runs, 'p99_ms'):.2f} | "
              f"{max(r['max_ms'] for r in runs):.2f} | {sum(r['errors'] for r in runs)} | "
              f"{med(runs, 'cpu_us_per_request'):.0f} | {mb(max(r.get('peak_rss_kb', 0) for r in runs)):.1f} |")
    if "ours" in by_gw and "hive" in by_gw:
        o, h = by_gw["ours"], by_gw["hive"]
        ratio = lambda k: med(o, k) / med(h, k) if med(h, k) else float("nan")
        peak = max(r.get("peak_rss_kb", 0) for r in o) / max(max(r.get("peak_rss_kb", 0) for r in h), 1)
        ratios.append(f"| {mode} | {workload} | {loop} | {dedupe} | {ratio('achieved_rps'):.2f} | {ratio('p50_ms'):.2f} | "
                      f"{ratio('p95_ms'):.2f} | {ratio('p99_ms'):.2f} | {ratio('cpu_us_per_request'):.2f} | {peak:.2f} |")
if ratios:
    print("\nours / hive (latency, CPU and memory below 1: ours is faster or smaller)\n")
    print("| mode | workload | loop | dedupe | rps | p50 | p95 | p99 | CPU per request | peak RSS |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(ratios))
if overload:
    print("\nresident memory (MB) under load, under overload and 5 s after it\n")
    print("| mode | dedupe | gateway | load: peak | overload: clients, req/s, p99 ms, errors | overload: peak | after |")
    print("|---|---|---|---:|---|---:|---:|")
    by = {}
    for r in overload:
        by.setdefault((r["mode"], r.get("dedupe", "off"), r["gateway"]), {})[r["workload"]] = r
    for (mode, dedupe, gw), w in by.items():
        before, during, after = w.get("overload-before", {}), w.get("overload", {}), w.get("overload-after", {})
        print(f"| {mode} | {dedupe} | {gw} | {mb(before.get('peak_rss_kb', 0)):.1f} | "
              f"{during.get('clients')}, {during.get('achieved_rps', 0):.0f}, {during.get('p99_ms', 0):.1f}, {during.get('errors', 0)} | "
              f"{mb(during.get('peak_rss_kb', 0)):.1f} | {mb(after.get('rss_kb', 0)):.1f} |")
if maxima:
    print("\nhighest rate with p99 within the bound (median of the rounds; each round in brackets)\n")
    print("| mode | dedupe | gateway | req/s | rounds |")
    print("|---|---|---|---:|---|")
    by = {}
    for r in maxima:
        by.setdefault((r["mode"], r.get("dedupe", "off"), r["gateway"]), []).append(r.get("max_rate") or 0)
    for (mode, dedupe, gw), rates in sorted(by.items()):
        print(f"| {mode} | {dedupe} | {gw} | {statistics.median(rates):.0f} | {', '.join(f'{x:.0f}' for x in rates)} |")
misses = sum(r.get("memo_misses", 0) for r in rows if r["mode"] != "real")
if any(r["mode"] != "real" for r in rows):
    print(f"\nmemo subgraph misses during measured memo and large runs: {misses} (0: every subgraph call answered from memory)")
PY
