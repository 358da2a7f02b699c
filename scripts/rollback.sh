#!/bin/sh
# Rolls Deployments of the shop back, and waits for each rollback to finish.
#   rollback.sh --from FILE   exactly what one deploy changed: FILE is what scripts/deploy.sh wrote
#                             before applying (REVISIONS_FILE: "name revision" per Deployment). A
#                             Deployment whose revision has changed since goes back to that revision
#                             (kubectl rollout undo --to-revision); the others, and Deployments the
#                             deploy created, are left alone. Jenkins runs this when a deploy fails or
#                             is aborted.
#   rollback.sh NAME...       by hand: each named Deployment back to its previous revision.
# Only Deployments: a StatefulSet (PostgreSQL), ConfigMaps and Secrets are not rolled back.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() {
  echo "usage: $0 --from FILE | NAME...   FILE: written by scripts/deploy.sh (REVISIONS_FILE)"
  echo "  env: TIMEOUT per rollout (default 300s), KUBECTL (default kubectl)"
}
FROM=
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  --from)
    [ $# -eq 2 ] || { usage >&2; exit 2; }
    FROM=$2 ;;
  '' | -*) usage >&2; exit 2 ;;
esac

KUBECTL=${KUBECTL:-kubectl}
T=$(seconds "${TIMEOUT:-300}")
UNDONE=

k() { "$KUBECTL" -n "$NAMESPACE" "$@"; }

# revision_now NAME: the Deployment's revision now; nothing if it is gone. Any other error stops
# the rollback (a Deployment skipped by mistake would stay on the failed release).
revision_now() {
  if _out=$(k get deployment "$1" -o 'jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}' 2>&1); then
    printf '%s\n' "$_out"
    return 0
  fi
  case $_out in
    *NotFound* | *"not found"*) return 0 ;;
    *) die "cannot read deployment/$1: $_out" ;;
  esac
}

undo_from_file() {
  if [ ! -f "$FROM" ]; then
    # scripts/deploy.sh writes it before it changes anything.
    step "no $FROM: the deploy changed nothing, nothing to roll back"
    return 0
  fi
  step "Deployments back to the revisions of $FROM"
  while read -r name revision; do
    case $name in '' | '#'*) continue ;; esac
    now=$(revision_now "$name") || exit 1
    if [ -z "$now" ]; then
      note "$name: gone, left as is"
    elif [ "$now" = "$revision" ]; then
      note "$name: still at revision $revision, left as is"
    else
      step "kubectl rollout undo deployment/$name --to-revision=$revision (now at $now)"
      k rollout undo "deployment/$name" --to-revision="$revision"
      UNDONE="$UNDONE deployment/$name"
    fi
  done <"$FROM"
}

# The number of revisions: the numbered lines of `kubectl rollout history`.
revisions() { k rollout history "$1" | grep -c '^[0-9][0-9]* ' || true; }

undo_named() {
  for name in "$@"; do
    if [ "$(revisions "deployment/$name")" -lt 2 ]; then
      step "deployment/$name: no previous revision, left as is"
      continue
    fi
    step "kubectl rollout undo deployment/$name"
    k rollout undo "deployment/$name"
    UNDONE="$UNDONE deployment/$name"
  done
}

wait_all() {
  for deployment in $UNDONE; do
    step "waiting for $deployment (timeout ${T}s)"
    k rollout status "$deployment" --timeout="${T}s"
  done
}

need "$KUBECTL"
if [ -n "$FROM" ]; then undo_from_file; else undo_named "$@"; fi
wait_all
step "rolled back $(echo "$UNDONE" | wc -w | tr -d ' ') Deployment(s) in namespace $NAMESPACE"
