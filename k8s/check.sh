#!/usr/bin/env bash
# The Kubernetes gate of `make test`: every overlay builds with `kubectl kustomize`, every rendered
# object validates offline (Kubernetes schemas, strict, and the operators' CRD schemas), the
# invariants of issue #19 hold (pytest k8s/tests), and checkov passes with each remaining finding
# justified (k8s/.checkov.yaml, checkov.io/skip annotations, `checkov:skip` in the Dockerfiles).
# Needs the tools scripts/dev-services.sh installs (.tools/k8s-venv, kubectl).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.tools/k8s-venv
export PATH="$PWD/$venv/bin:$PATH"
kubectl=${KUBECTL:-kubectl}
export KUBECTL=$kubectl

# The local overlay's secrets are generated, never committed.
k8s/overlays/local/gen-secrets.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for overlay in local production; do
  "$kubectl" kustomize "k8s/overlays/$overlay" > "$out/$overlay.yaml"
  echo "kustomize: k8s/overlays/$overlay renders $(grep -c '^kind:' "$out/$overlay.yaml") objects"
done

# -p no:cacheprovider: leave no .pytest_cache in the tree.
"$venv/bin/python" -m pytest -q -p no:cacheprovider k8s/tests

for overlay in local production; do
  "$venv/bin/checkov" --config-file k8s/.checkov.yaml -f "$out/$overlay.yaml"
done
"$venv/bin/checkov" --framework dockerfile --compact --quiet --skip-download -d k8s/images
