#!/bin/bash
# Manual failover of ag-<store> to replica NEW (0, 1 or 2) — the runbook of k8s/README.md. Refuses
# unless the target is SYNCHRONIZED, so no committed transaction is lost.
#   kubectl -n promptsales exec mssql-ads-1 -- env STORE=ads NEW=1 bash /scripts/failover.sh
set -euo pipefail
domain="mssql-${STORE}-replicas.promptsales.svc"
run() { local host=$1; shift; /opt/mssql-tools18/bin/sqlcmd -S "$host,1433" -U sa -N strict -F "$host" -b -I "$@"; }
target="mssql-${STORE}-${NEW}.$domain"
state=$(run "$target" -h -1 -W -Q "SET NOCOUNT ON; SELECT MIN(synchronization_state_desc)
  FROM sys.dm_hadr_database_replica_states WHERE is_local = 1")
[ "$state" = "SYNCHRONIZED" ] || { echo "replica ${NEW} is ${state:-unknown}, not SYNCHRONIZED: refusing" >&2; exit 1; }
for i in 0 1 2; do
  [ "$i" = "$NEW" ] && continue
  run "mssql-${STORE}-$i.$domain" -Q "ALTER AVAILABILITY GROUP [ag-${STORE}] SET (ROLE = SECONDARY)" || true
done
run "$target" -Q "ALTER AVAILABILITY GROUP [ag-${STORE}] FORCE_FAILOVER_ALLOW_DATA_LOSS"
echo "ag-${STORE}: primary is now mssql-${STORE}-${NEW}; point the Service at it:"
echo "  kubectl -n promptsales patch service mssql-${STORE} -p '{\"spec\":{\"selector\":{\"statefulset.kubernetes.io/pod-name\":\"mssql-${STORE}-${NEW}\"}}}'"
