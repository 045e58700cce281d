#!/usr/bin/env bash
# `make down`: stops the subgraphs, the gateway and the stack's Redis `make up` started (by the
# pids it wrote in .dev/pids). PostgreSQL and the machine's Redis (6379) keep running.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=${1:-}
shopt -s nullglob
for pidfile in .dev/pids/*; do
  name=$(basename "$pidfile")
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2> /dev/null; then
    kill "$pid"  # SIGTERM: each process drains its requests and exits
    for _ in $(seq 1 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    [ "$quiet" = --quiet ] || echo "stopped $name"
  fi
  rm -f "$pidfile"
done
