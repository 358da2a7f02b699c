#!/usr/bin/env bash
# Deletes the kind cluster and the local registry that scripts/kind-up.sh created.
set -euo pipefail

usage() { echo "usage: $0   env: CLUSTER (default shop), KEEP_REGISTRY=1 keeps the registry and its images"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

CLUSTER=${CLUSTER:-shop}
DOCKER=${DOCKER:-docker}

step() { echo "==> $*"; }

delete_cluster() {
  step "deleting kind cluster $CLUSTER"
  if kind get clusters | grep -qx "$CLUSTER"; then kind delete cluster --name "$CLUSTER"; fi
}

delete_registry() {
  [[ ${KEEP_REGISTRY:-0} == 1 ]] && return 0
  step "deleting registry container kind-registry"
  "$DOCKER" rm -f kind-registry >/dev/null 2>&1 || true
}

delete_cluster
delete_registry
step "done"
