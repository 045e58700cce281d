#!/usr/bin/env bash
# Writes the local overlay's secrets (random, never committed: secrets/ is gitignored) for the
# kustomize secretGenerator of kustomization.yaml. Keeps existing files, so a second run changes
# nothing and a deployed cluster keeps its passwords; `--force` makes a new set.
set -euo pipefail
cd "$(dirname "$0")"
[ "${1:-}" = "--force" ] && rm -rf secrets
mkdir -p secrets && chmod 700 secrets
if [ -s secrets/.complete ]; then
  grep -q '^service-sid=' secrets/mssql-ads.env || {
    echo "secrets/ predates the SQL Server service logins: make a new set with --force (for a new cluster)" >&2
    exit 1
  }
  exit 0
fi
umask 077
rand() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "${1:-32}"; }
b64key() { head -c 32 /dev/urandom | base64; }
# SQL Server wants upper, lower and digits in a password.
mssqlpw() { echo "Ps1$(rand 29)"; }

redis=$(rand); sales=$(rand); kc=$(rand); n8n=$(rand); mongo=$(rand); mongobk=$(rand)
ads=$(mssqlpw); crm=$(mssqlpw)
mongo_hosts="mongodb-0.mongodb-svc.promptsales.svc.cluster.local:27017,mongodb-1.mongodb-svc.promptsales.svc.cluster.local:27017,mongodb-2.mongodb-svc.promptsales.svc.cluster.local:27017"
mongo_opts="replicaSet=mongodb&authSource=admin&tls=true&tlsCAFile=/etc/promptsales/tls/ca.crt"
# PostgreSQL over TLS, the server's certificate checked against the cluster's CA and its name
# against the host (every pod that uses these URLs mounts the CA at /etc/promptsales/tls).
pg_opts="sslmode=verify-full&sslrootcert=/etc/promptsales/tls/ca.crt"
content_url="mongodb://promptcontent:${mongo}@${mongo_hosts}/promptcontent?${mongo_opts}"
# SQL Server: sa for the migrate Job (DDL), each subgraph its own login (ag-setup.sh creates it).
ads_svc=$(mssqlpw); crm_svc=$(mssqlpw)
sid() { echo "0x$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }
ads_admin_url="mssql://sa:${ads}@mssql-ads.promptsales.svc:1433/promptads?encrypt=true"
crm_admin_url="mssql://sa:${crm}@mssql-crm.promptsales.svc:1433/promptcrm?encrypt=true"
ads_url="mssql://promptsales_ads:${ads_svc}@mssql-ads.promptsales.svc:1433/promptads?encrypt=true"
crm_url="mssql://promptsales_crm:${crm_svc}@mssql-crm.promptsales.svc:1433/promptcrm?encrypt=true"
sales_url="postgres://promptsales:${sales}@postgres-rw.promptsales.svc:5432/promptsales?${pg_opts}"

cat > secrets/keys.env <<END
PROMPTSALES_CLAIMS_KEY=$(b64key)
PROMPTSALES_KEKS=local-$(date -u +%Y%m%d):$(b64key)
PROMPTSALES_BLIND_INDEX_KEY=$(b64key)
END
cat > secrets/store-urls.env <<END
PROMPTSALES_CONTENT_URL=${content_url}
PROMPTSALES_ADS_URL=${ads_url}
PROMPTSALES_CRM_URL=${crm_url}
PROMPTSALES_SALES_URL=${sales_url}
PROMPTSALES_GATEWAY_SALES_URL=${sales_url}
PROMPTSALES_REDIS_URL=rediss://:${redis}@redis.promptsales.svc:6379/0
END
cat > secrets/migrate-urls.env <<END
PROMPTSALES_CONTENT_URL=${content_url}
PROMPTSALES_ADS_URL=${ads_admin_url}
PROMPTSALES_CRM_URL=${crm_admin_url}
PROMPTSALES_SALES_URL=${sales_url}
END
printf 'password=%s\n' "$redis" > secrets/redis.env
printf 'username=promptsales\npassword=%s\n' "$sales" > secrets/postgres-promptsales.env
printf 'username=keycloak\npassword=%s\n' "$kc" > secrets/postgres-keycloak.env
printf 'username=n8n\npassword=%s\n' "$n8n" > secrets/postgres-n8n.env
printf 'password=%s\n' "$mongo" > secrets/mongodb-promptcontent.env
printf 'password=%s\n' "$mongobk" > secrets/mongodb-backup.env
printf 'uri=mongodb://backup:%s@%s/?%s\n' "$mongobk" "$mongo_hosts" "replicaSet=mongodb&authSource=admin" > secrets/mongodb-backup-uri.env
printf 'sa-password=%s\nag-cert-password=%s\nservice-password=%s\nservice-sid=%s\n' \
  "$ads" "$(rand)" "$ads_svc" "$(sid)" > secrets/mssql-ads.env
printf 'sa-password=%s\nag-cert-password=%s\nservice-password=%s\nservice-sid=%s\n' \
  "$crm" "$(rand)" "$crm_svc" "$(sid)" > secrets/mssql-crm.env
printf 'username=admin\npassword=%s\n' "$(rand)" > secrets/keycloak-admin.env
printf 'KC_GATEWAY_CLIENT_SECRET=%s\nKC_ETL_CLIENT_SECRET=%s\nKC_MCP_CLIENT_SECRET=%s\nKC_WORKER_CLIENT_SECRET=%s\n' \
  "$(rand)" "$(rand)" "$(rand)" "$(rand)" > secrets/keycloak-clients.env
printf 'encryption-key=%s\n' "$(rand 48)" > secrets/n8n.env
date -u +%FT%TZ > secrets/.complete
echo "local secrets written to $(pwd)/secrets" >&2
