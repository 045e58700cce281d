#!/bin/bash
# Joins the three replicas of one SQL Server store into the availability group ag-<store>
# (Job mssql-<store>-ag-setup), then gives the store's service its own least-privilege login.
# Every step checks before it acts, so a rerun changes nothing.
set -euo pipefail
domain="mssql-${STORE}-replicas.promptsales.svc"
run() { # host, sqlcmd arguments...
  local host=$1; shift
  /opt/mssql-tools18/bin/sqlcmd -S "$host,1433" -U sa -N strict -F "$host" -b -I "$@"
}
for i in 0 1 2; do
  until run "mssql-${STORE}-$i.$domain" -Q "SELECT 1" >/dev/null; do
    echo "waiting for mssql-${STORE}-$i"; sleep 5
  done
  # The endpoint certificate comes from the mounted PKCS#12 keystore of cert-manager.
  run "mssql-${STORE}-$i.$domain" -v pw="$AG_CERT_PASSWORD" -Q "
    IF NOT EXISTS (SELECT 1 FROM sys.symmetric_keys WHERE name = '##MS_DatabaseMasterKey##')
      CREATE MASTER KEY ENCRYPTION BY PASSWORD = '\$(pw)';
    IF NOT EXISTS (SELECT 1 FROM sys.certificates WHERE name = 'ag_cert')
      CREATE CERTIFICATE ag_cert FROM FILE = '/var/opt/mssql-ag/keystore.p12'
        WITH FORMAT = 'PFX', PRIVATE KEY (DECRYPTION BY PASSWORD = '\$(pw)');
    IF NOT EXISTS (SELECT 1 FROM sys.database_mirroring_endpoints)
      CREATE ENDPOINT hadr_endpoint STATE = STARTED AS TCP (LISTENER_PORT = 5022)
        FOR DATABASE_MIRRORING (ROLE = ALL, AUTHENTICATION = CERTIFICATE ag_cert,
          ENCRYPTION = REQUIRED ALGORITHM AES);"
done
primary="mssql-${STORE}-0.$domain"
replica() { # ordinal
  echo "N'mssql-${STORE}-$1' WITH (ENDPOINT_URL = N'tcp://mssql-${STORE}-$1.$domain:5022',
    AVAILABILITY_MODE = SYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL, SEEDING_MODE = AUTOMATIC,
    SECONDARY_ROLE (ALLOW_CONNECTIONS = ALL))"
}
run "$primary" -v db="prompt${STORE}" -Q "
  IF DB_ID('\$(db)') IS NULL CREATE DATABASE [\$(db)];
  ALTER DATABASE [\$(db)] SET RECOVERY FULL;
  IF NOT EXISTS (SELECT 1 FROM sys.availability_groups WHERE name = 'ag-${STORE}')
  BEGIN
    BACKUP DATABASE [\$(db)] TO DISK = N'NUL';
    CREATE AVAILABILITY GROUP [ag-${STORE}]
      WITH (CLUSTER_TYPE = NONE, REQUIRED_SYNCHRONIZED_SECONDARIES_TO_COMMIT = 1)
      FOR DATABASE [\$(db)]
      REPLICA ON $(replica 0), $(replica 1), $(replica 2);
  END"
for i in 1 2; do
  run "mssql-${STORE}-$i.$domain" -Q "
    IF NOT EXISTS (SELECT 1 FROM sys.availability_groups WHERE name = 'ag-${STORE}')
    BEGIN
      ALTER AVAILABILITY GROUP [ag-${STORE}] JOIN WITH (CLUSTER_TYPE = NONE);
      ALTER AVAILABILITY GROUP [ag-${STORE}] GRANT CREATE ANY DATABASE;
    END"
done
echo "availability group ag-${STORE} is set up"

# The service's own login, so the subgraph never connects as sa. sqlcmd reads the scripts'
# variables (ServiceLogin, ServicePassword, ServiceSid, Database, Schema, AppendOnly) from the
# environment, so the password is on no command line. The login goes on every replica with one
# SID; the user and its grants go on the primary and replicate with the database. The grants need
# the schema the migrate Job creates: until it has run this step fails and the Job retries.
if ! [[ $ServicePassword =~ ^[A-Za-z0-9._~-]{16,128}$ ]]; then
  echo "service-password must be 16 to 128 of A-Z a-z 0-9 . _ ~ - (it also goes into the store URL)" >&2
  exit 1
fi
for i in 0 1 2; do
  run "mssql-${STORE}-$i.$domain" -i /scripts/service-login.sql
done
run "$primary" -i /scripts/service-grants.sql
echo "login ${ServiceLogin} is set up on every replica, with its grants on ${Schema}"
