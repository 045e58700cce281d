#!/usr/bin/env bash
# No SQL Server runs here, so the T-SQL migrations are at least parsed by a pinned sqlfluff
# (settings in .sqlfluff). Any unparsable section fails the check and is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for file in sql/*/mssql/*.sql sql/*/mssql/*/*.sql k8s/base/stores/mssql/*.sql; do
  out=$(mktemp)
  if .tools/venv/bin/sqlfluff parse "$file" >"$out" 2>&1 && ! grep -q unparsable "$out"; then
    echo "  parses: $file"
  else
    echo "  FAILS:  $file"
    grep -n -B2 -A8 unparsable "$out" | head -60 || tail -20 "$out"
    status=1
  fi
  rm -f "$out"
done
exit $status
