#!/usr/bin/env bash
# `make differential`: our gateway against Hive Router 0.0.43 on thousands of operations generated
# from the schemas of the fixture supergraphs (gateway/tests/differential.rs). Installs Hive Router into .tools/hive-router as
# `make bench-gateway` does when it is missing. Prints each difference; docs/federation.md says
# how to read them.
#
# Settings (environment): DIFFERENTIAL_OPERATIONS (per supergraph, default 3000),
# DIFFERENTIAL_SEED (default: a new one per run, printed).
set -euo pipefail
cd "$(dirname "$0")/.."
HIVE_VERSION=0.0.43
HIVE_ROOT=.tools/hive-router

eval "$(scripts/dev-services.sh)"
if [ ! -x "$HIVE_ROOT/bin/hive_router" ] || ! grep -q "hive-router $HIVE_VERSION " "$HIVE_ROOT/.crates.toml" 2> /dev/null; then
  echo "installing Hive Router $HIVE_VERSION into $HIVE_ROOT (a release build from crates.io; several minutes)"
  cargo install hive-router --version "$HIVE_VERSION" --locked --root "$HIVE_ROOT"
fi
export HIVE_ROUTER_BIN=$PWD/$HIVE_ROOT/bin/hive_router
export DIFFERENTIAL_OPERATIONS=${DIFFERENTIAL_OPERATIONS:-3000}
export DIFFERENTIAL_SEED=${DIFFERENTIAL_SEED:-$RANDOM$RANDOM}
echo "operations per supergraph: $DIFFERENTIAL_OPERATIONS, seed: $DIFFERENTIAL_SEED"
cargo test --locked -p promptsales-gateway --test differential -- --ignored --nocapture --test-threads 1
