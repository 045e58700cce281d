#!/usr/bin/env bash
# `make up`: prepares the machine (packages, PostgreSQL, Redis), builds the release binaries,
# brings the four local stores up to date and seeds them. Starting the subgraphs and the gateway
# joins here with the gateway issue.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

step "services and tools"
eval "$(scripts/dev-services.sh)"

step "build (release)"
cargo build --release --locked --bin promptsales

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

cat <<TXT

PromptSales is up on this machine:
  PostgreSQL  127.0.0.1:5432  databases promptcontent, promptads, promptcrm, promptsales
              (role promptsales; its generated password is in .dev/pg-password)
  Redis       127.0.0.1:6379

Look around:  psql "postgres://promptsales@127.0.0.1:5432/promptads" -c '\dt ads.*'
              (export PGPASSWORD="\$(cat .dev/pg-password)" first on a machine with password login)
Operator CLI: target/release/promptsales --help
TXT
