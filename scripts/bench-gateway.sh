#!/usr/bin/env bash
# `make bench-gateway`: our gateway and Hive Router side by side, over the same supergraph, the
# same queries and the same open-loop request rate, in two modes:
#   real  both gateways in front of the four subgraphs of `make up` (PostgreSQL behind them);
#   memo  both in front of promptsales-memo-subgraphs, which answers every subgraph request from
#         memory once warmed, so only the gateways' own work and HTTP are measured.
# The two gateways are measured in turn, alternating who goes first, for BENCH_ROUNDS rounds.
# It prints figures; it asserts nothing about speed and is not part of `make test`.
# docs/benchmarks.md says what is measured and how to read it.
#
# Settings (environment):
#   BENCH_RATE_REAL, BENCH_RATE_MEMO  requests/s scheduled in each mode     (defaults below)
#   BENCH_DURATION, BENCH_WARMUP      seconds measured / sent before measuring, per run
#   BENCH_ROUNDS                      rounds of (ours, hive) per mode and workload
#   BENCH_MODES                       "real memo", or one of them
#   BENCH_WORKLOADS                   "mixed" (the three queries in turn) and/or
#                                     campaign-page campaign-list reference-data
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

step "the local stack (make up)"
stack_ready() {
  for entry in "${SUBGRAPHS[@]}"; do
    curl -fsS -m 2 "http://127.0.0.1:${entry##*:}/readyz" > /dev/null 2>&1 || return 1
  done
}
if stack_ready; then
  echo "subgraphs answer on 4001-4004: using them"
else
  echo "subgraphs are not all ready: running scripts/up.sh"
  scripts/up.sh
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
bins=(target/release/promptsales-gateway "$load" target/release/promptsales-memo-subgraphs)
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
  echo "BENCH_SKIP_BUILD=1: using the binaries already in target/release"
elif ! cargo build --release --locked -p promptsales-e2e -p promptsales-gateway --bins; then
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
start_gateways() { # mode ours_port hive_port url_of(name)...
  local mode=$1 ours_port=$2 hive_port=$3
  shift 3
  local urls=("$@") # content ads crm sales, in that order
  cat > "$out/ours-$mode.yaml" <<YAML
gateway:
  subgraph_urls:
    content: ${urls[0]}
    ads: ${urls[1]}
    crm: ${urls[2]}
    sales: ${urls[3]}
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
  path: $root/supergraph/supergraph.graphql
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
override_subgraph_urls:
  content: { url: "${urls[0]}" }
  ads: { url: "${urls[1]}" }
  crm: { url: "${urls[2]}" }
  sales: { url: "${urls[3]}" }
# The subgraphs enforce @requiresScopes; our gateway does not check them either.
authorization:
  directives:
    enabled: false
# Our gateway does not deduplicate identical in-flight subgraph requests: compare like with like.
traffic_shaping:
  all:
    dedupe_enabled: false
YAML
  PORT=$ours_port RUST_LOG=warn "${pin_gw[@]}" target/release/promptsales-gateway \
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

for mode in $MODES; do
  case $mode in
    real)
      rate=$RATE_REAL ours_port=4110 hive_port=4120
      urls=()
      for entry in "${SUBGRAPHS[@]}"; do urls+=("http://127.0.0.1:${entry##*:}/graphql"); done
      ;;
    memo)
      rate=$RATE_MEMO ours_port=4111 hive_port=4121
      routes=() urls=()
      for entry in "${SUBGRAPHS[@]}"; do
        port=${entry##*:}
        routes+=(--route "$((port + 200))=http://127.0.0.1:$port/graphql")
        urls+=("http://127.0.0.1:$((port + 200))/graphql")
      done
      "${pin_rest[@]}" target/release/promptsales-memo-subgraphs "${routes[@]}" > "$out/logs/memo.log" 2>&1 &
      memo_pid=$!
      started+=("$memo_pid")
      wait_ready memo http://127.0.0.1:4201/readyz "$memo_pid"
      ;;
    *) echo "unknown mode $mode (real, memo)" >&2; exit 1 ;;
  esac

  step "$mode: start both gateways"
  start_gateways "$mode" "$ours_port" "$hive_port" "${urls[@]}"
  ours_gql=$(graphql_url "$ours_port") hive_gql=$(graphql_url "$hive_port")

  # Real ids from the seeded stack, then one check that both gateways give the same answer.
  if [ -z "${campaign_id:-}" ]; then
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
  for query in campaign-page campaign-list reference-data; do
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
    echo "$query: $(wc -c < "$out/$query.ours.json") bytes, $same"
  done

  if [ "$mode" = memo ]; then
    step "memo: warm both gateways so every subgraph request they make is memoized"
    for gw in $GATEWAYS; do
      url=$ours_gql extra=()
      [ $gw = hive ] && url=$hive_gql extra=(--claims-scopes "$SCOPES")
      "${pin_rest[@]}" "$load" --url "$url" "${extra[@]}" --rate 50 --duration 2 --warmup 0 \
        --body-file "$out/campaign-page.json" --body-file "$out/campaign-list.json" \
        --body-file "$out/reference-data.json" > /dev/null
    done
    curl -fsS http://127.0.0.1:4201/stats | jq -c '{hits, misses, entries}'
  fi

  for workload in $WORKLOADS; do
    case $workload in
      mixed) bodies=(--body-file "$out/campaign-page.json" --body-file "$out/campaign-list.json" --body-file "$out/reference-data.json") ;;
      campaign-page | campaign-list | reference-data) bodies=(--body-file "$out/$workload.json") ;;
      *) echo "unknown workload $workload" >&2; exit 1 ;;
    esac
    for round in $(seq 1 "$ROUNDS"); do
      order=$GATEWAYS
      [ $((round % 2)) = 0 ] && order=$(echo "$GATEWAYS" | tr ' ' '\n' | tac | tr '\n' ' ')
      for gw in $order; do
        url=$ours_gql extra=()
        [ $gw = hive ] && url=$hive_gql extra=(--claims-scopes "$SCOPES")
        misses_before=$([ "$mode" = memo ] && curl -fsS http://127.0.0.1:4201/stats | jq .misses || echo 0)
        pid=$ours_pid
        [ $gw = hive ] && pid=$hive_pid
        cpu_before=$(cpu_ticks "$pid")
        line=$("${pin_rest[@]}" "$load" --url "$url" "${extra[@]}" "${bodies[@]}" --rate "$rate" \
          --duration "$DURATION" --warmup "$WARMUP" --max-in-flight "$MAX_IN_FLIGHT" --json --label "$gw")
        cpu_after=$(cpu_ticks "$pid")
        misses_after=$([ "$mode" = memo ] && curl -fsS http://127.0.0.1:4201/stats | jq .misses || echo 0)
        # The gateway's CPU time (user + system) over the warm-up and the measured window, per
        # request sent in them.
        line=$(jq -c --arg gw $gw --arg mode "$mode" --arg workload "$workload" --argjson round "$round" \
          --argjson memo_misses $((misses_after - misses_before)) \
          --argjson cpu_ms $(((cpu_after - cpu_before) * 1000 / CLK_TCK)) --argjson sent_before "$((rate * WARMUP))" \
          '. + {gateway: $gw, mode: $mode, workload: $workload, round: $round, memo_misses: $memo_misses,
                cpu_us_per_request: ((($cpu_ms * 1000) / ([.ok + .errors + $sent_before, 1] | max)) * 10 | round / 10)}' <<< "$line")
        echo "$line" >> "$results"
        jq -r '"\(.mode) \(.workload) round \(.round) \(.gateway): \(.achieved_rps) req/s, p50 \(.p50_ms) p95 \(.p95_ms) p99 \(.p99_ms) ms, \(.errors) errors, CPU \(.cpu_us_per_request) us/request"' <<< "$line"
      done
    done
  done

  if [ "$FIND_MAX" = 1 ]; then
    # One search per gateway and round, in alternating order: a single search can end early on
    # one stall of the machine, so the table shows the median.
    for round in $(seq 1 "$ROUNDS"); do
      order=$GATEWAYS
      [ $((round % 2)) = 0 ] && order=$(echo "$GATEWAYS" | tr ' ' '\n' | tac | tr '\n' ' ')
      for gw in $order; do
        url=$ours_gql extra=()
        [ $gw = hive ] && url=$hive_gql extra=(--claims-scopes "$SCOPES")
        step "$mode: highest mixed rate for $gw with p99 <= $P99_BOUND_MS ms (round $round)"
        line=$("${pin_rest[@]}" "$load" --url "$url" "${extra[@]}" --body-file "$out/campaign-page.json" \
          --body-file "$out/campaign-list.json" --body-file "$out/reference-data.json" --rate "$((rate / 2))" \
          --duration 5 --warmup 1 --max-in-flight "$MAX_IN_FLIGHT" --find-max --p99-bound-ms "$P99_BOUND_MS" \
          --json --label "$gw $mode")
        line=$(jq -c --arg gw $gw --arg mode "$mode" --argjson round "$round" \
          '. + {gateway: $gw, mode: $mode, workload: "find-max", round: $round}' <<< "$line")
        echo "$line" >> "$results"
        jq -r '"highest rate for \(.gateway): \(.max_rate // 0 | round) req/s"' <<< "$line"
      done
    done
  fi

  stop_gateways
  if [ "$mode" = memo ]; then
    echo "memo subgraphs: $(curl -fsS http://127.0.0.1:4201/stats | jq -c '{hits, misses, entries}')"
    kill "$memo_pid" 2> /dev/null || true
    wait "$memo_pid" 2> /dev/null || true
  fi
done

step "results (median over $ROUNDS rounds; all runs in $results)"
python3 - "$results" "$cpus" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
groups = {}
maxima = [r for r in rows if r["workload"] == "find-max"]
rows = [r for r in rows if r["workload"] != "find-max"]
for r in rows:
    groups.setdefault((r["mode"], r["workload"]), {}).setdefault(r["gateway"], []).append(r)
med = lambda runs, k: statistics.median(r[k] for r in runs)
print(f"{sys.argv[2]} CPUs; gateway under test pinned to CPU 1 when taskset is available\n")
print("| mode | workload | gateway | rate | achieved rps | p50 ms | p95 ms | p99 ms | max ms | errors | CPU us/req |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
ratios = []
for (mode, workload), by_gw in groups.items():
    for gw in ("ours", "hive"):
        runs = by_gw.get(gw)
        if not runs:
            continue
        print(f"| {mode} | {workload} | {gw} | {runs[0]['rate']:.0f} | {med(runs, 'achieved_rps'):.1f} | "
              f"{med(runs, 'p50_ms'):.2f} | {med(runs, 'p95_ms'):.2f} | {med(runs, 'p99_ms'):.2f} | "
              f"{max(r['max_ms'] for r in runs):.2f} | {sum(r['errors'] for r in runs)} | "
              f"{med(runs, 'cpu_us_per_request') if all('cpu_us_per_request' in r for r in runs) else float('nan'):.0f} |")
    if "ours" in by_gw and "hive" in by_gw:
        o, h = by_gw["ours"], by_gw["hive"]
        ratio = lambda k: med(o, k) / med(h, k) if med(h, k) else float("nan")
        cpu = ratio('cpu_us_per_request') if all('cpu_us_per_request' in r for r in o + h) else float("nan")
        ratios.append(f"| {mode} | {workload} | {ratio('achieved_rps'):.2f} | {ratio('p50_ms'):.2f} | "
                      f"{ratio('p95_ms'):.2f} | {ratio('p99_ms'):.2f} | {cpu:.2f} |")
if ratios:
    print("\nours / hive (latency and CPU below 1: ours is faster)\n")
    print("| mode | workload | rps | p50 | p95 | p99 | CPU per request |")
    print("|---|---|---:|---:|---:|---:|---:|")
    print("\n".join(ratios))
if maxima:
    print("\nhighest mixed rate with p99 within the bound (median of the rounds; each round in brackets)\n")
    print("| mode | gateway | req/s | rounds |")
    print("|---|---|---:|---|")
    by = {}
    for r in maxima:
        by.setdefault((r["mode"], r["gateway"]), []).append(r.get("max_rate") or 0)
    for (mode, gw), rates in sorted(by.items()):
        print(f"| {mode} | {gw} | {statistics.median(rates):.0f} | {', '.join(f'{x:.0f}' for x in rates)} |")
misses = sum(r.get("memo_misses", 0) for r in rows if r["mode"] == "memo")
if any(r["mode"] == "memo" for r in rows):
    print(f"\nmemo subgraph misses during measured memo runs: {misses} (0: every subgraph call answered from memory)")
PY
