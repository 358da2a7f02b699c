#!/bin/sh
# Rolls every Deployment of the shop back to its previous revision (kubectl rollout undo) and waits
# for each rollback to finish. Jenkins runs it when a rollout or the smoke test fails.
# A Deployment with a single revision (the very first deploy) has nothing to go back to: skipped.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() { echo "usage: $0 [-h]   env: TIMEOUT per rollout (default 300s), KUBECTL (default kubectl)"; }
case ${1:-} in
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

KUBECTL=${KUBECTL:-kubectl}
T=$(seconds "${TIMEOUT:-300}")
UNDONE=

k() { "$KUBECTL" -n "$NAMESPACE" "$@"; }

# The number of revisions: the numbered lines of `kubectl rollout history`.
revisions() { k rollout history "$1" | grep -c '^[0-9][0-9]* ' || true; }

undo_all() {
  for deployment in $(k get deployments -o name); do
    if [ "$(revisions "$deployment")" -lt 2 ]; then
      step "$deployment: no previous revision, left as is"
      continue
    fi
    step "kubectl rollout undo $deployment"
    k rollout undo "$deployment"
    UNDONE="$UNDONE $deployment"
  done
}

wait_all() {
  for deployment in $UNDONE; do
    step "waiting for $deployment (timeout ${T}s)"
    k rollout status "$deployment" --timeout="${T}s"
  done
}

need "$KUBECTL"
undo_all
wait_all
step "rolled back $(echo "$UNDONE" | wc -w | tr -d ' ') Deployment(s) in namespace $NAMESPACE"
