#!/usr/bin/env bash
# The content MCP server's speed (issue 13): getContent p95 and the brief's time with the offline
# composer, over the whole stack in one process (mcp/content/examples/bench.rs). Prints figures;
# asserts nothing. Needs the model (scripts/dev-services.sh fetches it) and the local PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/dev-services.sh)"
set -a; . .dev/keys.env; set +a
# The same selection as `make up` (scripts/up.sh) plus the example, so the dependencies are built
# once with one feature set for both (a `-p` build would rebuild many of them differently).
cargo build --release --locked --bin promptsales --bin promptsales-gateway \
  --bin promptsales-content --bin promptsales-ads --bin promptsales-crm --bin promptsales-sales \
  --bin promptsales-mcp-sales --bin promptsales-mcp-content --bin promptsales-worker --example bench
target/release/examples/bench
