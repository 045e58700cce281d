#!/usr/bin/env bash
# =================================================================================================
# 02_encrypted_backup_restore.sh: encrypted personal data survives a backup as ciphertext; a
# restore on another server cannot read it until that server is given the key, and then can.
# PostgreSQL twin of sql/crm/mssql/scripts/02_encryption_certificate.sql (certificate in master,
# backup, restore elsewhere, restore the certificate with its private key).
#
#   1. encrypt on the source (02_encrypt_pii.sql): the session is given the key-encryption key
#      (KEK) as the setting crm_vault.kek through PGOPTIONS, never on a command line;
#   2. pg_dump the database, and check the KEK is not in the dump;
#   3. start a second PostgreSQL (initdb in a temporary data directory, a free port of
#      127.0.0.1) and pg_restore the dump there;
#   4. read the restored copy (02_read_restored.sql) with no key, then with a wrong one:
#      ciphertext, and "readable 0" with PostgreSQL's reason;
#   5. give the second server the key (crm_vault.kek in its postgresql.conf, then reload: the
#      counterpart of restoring the certificate into master) and read again: every row readable.
# The second server is stopped and its directory removed on exit, whatever happens.
#
# Usage: 02_encrypted_backup_restore.sh SOURCE_DATABASE_URL KEK_FILE
#   SOURCE_DATABASE_URL  e.g. postgres://promptsales@127.0.0.1:5432/promptcrm (the role must be
#                        allowed to CREATE EXTENSION pgcrypto: the database owner is)
#   KEK_FILE             a file holding the KEK: 32+ characters of [A-Za-z0-9+/=_-], e.g.
#                        `openssl rand -base64 32 > kek`. Keep it out of the repository.
# Needs: psql, pg_dump, pg_restore on PATH; initdb and pg_ctl in PROMPTSALES_PG_BINDIR or
# `pg_config --bindir`. As root, the second server runs as the postgres system user.
# =================================================================================================
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 SOURCE_DATABASE_URL KEK_FILE" >&2
  exit 2
fi
source_url=$1
kek=$(tr -d '\n' <"$2")
if [[ ! $kek =~ ^[A-Za-z0-9+/=_-]{32,}$ ]]; then
  echo "the KEK in $2 must be 32+ characters of [A-Za-z0-9+/=_-]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
bindir=${PROMPTSALES_PG_BINDIR:-$(pg_config --bindir)}
work=$(mktemp -d "${TMPDIR:-/tmp}/ps_crm_restore_XXXXXX")
as_postgres=()
if [[ $(id -u) == 0 ]]; then
  # PostgreSQL refuses to run as root.
  chown postgres "$work"
  as_postgres=(runuser -u postgres --)
fi
cleanup() {
  if [[ -f $work/data/postmaster.pid ]]; then
    "${as_postgres[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
echo "work directory: $work"

step "1. encrypt national ids and context on the source"
PGOPTIONS="-c crm_vault.kek=$kek" psql -X -v ON_ERROR_STOP=1 -d "$source_url" -f "$here/02_encrypt_pii.sql"

step "2. back up the source"
pg_dump --format=custom --file="$work/promptcrm.dump" -d "$source_url"
echo "backup: $(stat -c %s "$work/promptcrm.dump") bytes"
if grep -qaF -- "$kek" "$work/promptcrm.dump"; then
  echo "key in the backup: YES (it must never be)" >&2
  exit 1
fi
echo "key in the backup: no"

step "3. restore on a second server"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_postgres[@]}" "$bindir/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
"${as_postgres[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c fsync=off" start >/dev/null
target="postgres://postgres@127.0.0.1:$port/promptcrm"
echo "second server: 127.0.0.1:$port, data directory $work/data"
psql -X -q -v ON_ERROR_STOP=1 -d "postgres://postgres@127.0.0.1:$port/postgres" -c "CREATE DATABASE promptcrm"
# User mappings name roles of the source server that this one does not have (and hold how to log
# in elsewhere): leave them out, with ownership and grants. Materialized views over the PromptAds
# link (03_campaign_analytics.sql) are restored empty: without a mapping they cannot be filled
# here; REFRESH them once the link is set up on this server.
pg_restore -l "$work/promptcrm.dump" | grep -v -e ' USER MAPPING ' -e ' MATERIALIZED VIEW DATA ' >"$work/restore.list"
pg_restore --no-owner --no-privileges --exit-on-error -L "$work/restore.list" -d "$target" "$work/promptcrm.dump"
echo "restored into $target"

step "4a. read the restored copy without the key"
psql -X -v ON_ERROR_STOP=1 -d "$target" -f "$here/02_read_restored.sql"

step "4b. read it with a wrong key"
wrong=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
PGOPTIONS="-c crm_vault.kek=$wrong" psql -X -v ON_ERROR_STOP=1 -d "$target" -f "$here/02_read_restored.sql"

step "5. restore the key on the second server, then read again"
printf "\n# restored key-encryption key (02_encrypted_backup_restore.sh)\ncrm_vault.kek = '%s'\n" "$kek" \
  >>"$work/data/postgresql.conf"
"${as_postgres[@]}" "$bindir/pg_ctl" -D "$work/data" reload >/dev/null
psql -X -v ON_ERROR_STOP=1 -d "$target" -f "$here/02_read_restored.sql"
