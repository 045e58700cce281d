#!/usr/bin/env bash
# `make up`: prepares the machine (packages, PostgreSQL, Redis), builds the release binaries and
# brings the four local stores up to date. Later steps (seed, subgraphs, gateway) join here as they
# are built.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

step "services and tools"
eval "$(scripts/dev-services.sh)"

step "build (release)"
cargo build --release --locked --bin promptsales

step "migrate the four local stores"
target/release/promptsales migrate

cat <<TXT

PromptSales is up on this machine:
  PostgreSQL  127.0.0.1:5432  databases promptcontent, promptads, promptcrm, promptsales
              (role promptsales; its generated password is in .dev/pg-password)
  Redis       127.0.0.1:6379

Look around:  psql "postgres://promptsales@127.0.0.1:5432/promptads" -c '\dt ads.*'
              (export PGPASSWORD="\$(cat .dev/pg-password)" first on a machine with password login)
Operator CLI: target/release/promptsales --help
TXT
