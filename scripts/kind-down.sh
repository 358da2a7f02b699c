#!/bin/sh
# Deletes the kind cluster and the local registry that scripts/kind-up.sh created.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() { echo "usage: $0 [-h]   env: CLUSTER (default shop), KEEP_REGISTRY=1 keeps the registry and its images, DOCKER"; }
case ${1:-} in
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

CLUSTER=${CLUSTER:-shop}
DOCKER=${DOCKER:-docker}

delete_cluster() {
  step "deleting kind cluster $CLUSTER"
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    kind delete cluster --name "$CLUSTER"
  else
    note "no such cluster"
  fi
  rm -f "${TMPDIR:-/tmp}/shop-kind-$CLUSTER-images.txt"
}

delete_registry() {
  if [ "${KEEP_REGISTRY:-0}" = 1 ]; then
    step "keeping the registry container kind-registry (KEEP_REGISTRY=1)"
    return 0
  fi
  step "deleting the registry container kind-registry"
  "$DOCKER" rm -f kind-registry >/dev/null 2>&1 || true
}

need kind "$DOCKER"
delete_cluster
delete_registry
step "done"
