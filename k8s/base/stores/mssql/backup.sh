#!/bin/bash
# Daily backup of one SQL Server store (CronJob mssql-<store>-backup): a full COPY_ONLY backup on
# the primary's volume, verified, then files of this database older than 30 days removed.
set -euo pipefail
sqlcmd=(/opt/mssql-tools18/bin/sqlcmd -S "mssql-${STORE}.promptsales.svc,1433" -U sa -N strict
  -F "mssql-${STORE}.promptsales.svc" -b -I)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
file="/var/opt/mssql/backup/${DATABASE}-${stamp}.bak"
"${sqlcmd[@]}" -v db="$DATABASE" file="$file" -Q "
  EXEC master.sys.xp_create_subdir N'/var/opt/mssql/backup';
  BACKUP DATABASE [\$(db)] TO DISK = N'\$(file)' WITH COPY_ONLY, COMPRESSION, CHECKSUM, INIT;
  RESTORE VERIFYONLY FROM DISK = N'\$(file)' WITH CHECKSUM;
  DECLARE @cutoff nvarchar(19) = CONVERT(nvarchar(19), DATEADD(day, -30, SYSUTCDATETIME()), 126);
  EXEC master.sys.xp_delete_file 0, N'/var/opt/mssql/backup/', N'bak', @cutoff, 0;"
echo "backup of ${DATABASE} written to ${file}"
