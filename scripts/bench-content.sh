#!/usr/bin/env bash
# The content MCP server's speed (issue 13): getContent p95 and the brief's time with the offline
# composer, over the whole stack in one process (mcp/content/examples/bench.rs). Prints figures;
# asserts nothing. Needs the model (scripts/dev-services.sh fetches it) and the local PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/dev-services.sh)"
set -a; . .dev/keys.env; set +a
cargo run --release --locked -p promptsales-mcp-content --example bench
