#!/usr/bin/env bash
# Rolls every Deployment of the shop back to its previous revision (kubectl rollout undo) and waits
# for each rollback to finish. Jenkins runs it when a rollout or the smoke test fails.
# A Deployment with a single revision (the very first deploy) has nothing to go back to: skipped.
set -euo pipefail

usage() { echo "usage: $0   env: NAMESPACE (default shop), TIMEOUT per rollout (default 300s), KUBECTL"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

NAMESPACE=${NAMESPACE:-shop}
TIMEOUT=${TIMEOUT:-300s}
KUBECTL=${KUBECTL:-kubectl}
UNDONE=()

step() { echo "==> $*"; }
k() { "$KUBECTL" -n "$NAMESPACE" "$@"; }

# The number of revisions: the numbered lines of `kubectl rollout history`.
revisions() { k rollout history "$1" | grep -cE '^[0-9]+ ' || true; }

undo_all() {
  local deployment
  for deployment in $(k get deployments -o name); do
    if [[ $(revisions "$deployment") -lt 2 ]]; then
      step "$deployment: no previous revision, left as is"
      continue
    fi
    step "kubectl rollout undo $deployment"
    k rollout undo "$deployment"
    UNDONE+=("$deployment")
  done
}

wait_all() {
  local deployment
  for deployment in "${UNDONE[@]}"; do
    step "waiting for $deployment (timeout $TIMEOUT)"
    k rollout status "$deployment" --timeout="$TIMEOUT"
  done
}

undo_all
wait_all
step "rolled back ${#UNDONE[@]} Deployment(s) in namespace $NAMESPACE"
