#!/usr/bin/env bash
# Deploys one overlay of k8s/ with the images of one build: sets the image tags in a temp copy of the
# overlay (kustomize edit set image), applies it, and waits for every rollout to finish.
set -euo pipefail

usage() {
  echo "usage: $0 OVERLAY [TAG]   OVERLAY: a directory name under k8s/overlays (kind, minikube, production)"
  echo "  TAG: image tag, default \$TAG or the git sha (as scripts/build-images.sh tags)"
  echo "  env: NAMESPACE (default shop), TIMEOUT per rollout (default 300s), KUBECTL, KUSTOMIZE"
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NAMESPACE=${NAMESPACE:-shop}
TIMEOUT=${TIMEOUT:-300s}
KUBECTL=${KUBECTL:-kubectl}
KUSTOMIZE=${KUSTOMIZE:-kustomize}
WORK=""

step() { echo "==> $*"; }

check_tools() {
  local tool
  for tool in "$KUBECTL" "$KUSTOMIZE"; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found on PATH" >&2; exit 1; }
  done
  [[ -d $ROOT/k8s/overlays/$OVERLAY ]] || { echo "error: no overlay k8s/overlays/$OVERLAY" >&2; usage; exit 2; }
}

# The services whose images scripts/build-images.sh builds: its line SERVICES=(...).
read_services() {
  read -ra SERVICES <<<"$(sed -n 's/^\(SERVICES\|TOOLS\)=(\(.*\))$/\2/p' "$ROOT/scripts/build-images.sh" | tr '\n' ' ')"
  [[ ${#SERVICES[@]} -gt 0 ]] || { echo "error: no SERVICES=(...) in scripts/build-images.sh" >&2; exit 1; }
}

set_tags() {
  step "setting image tags to $TAG in a temp copy of k8s/overlays/$OVERLAY"
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  cp -r "$ROOT/k8s" "$WORK/"
  local svc
  for svc in "${SERVICES[@]}"; do
    (cd "$WORK/k8s/overlays/$OVERLAY" && "$KUSTOMIZE" edit set image "shop-$svc=*:$TAG")
  done
}

apply() {
  step "applying k8s/overlays/$OVERLAY to $("$KUBECTL" config current-context)"
  "$KUSTOMIZE" build "$WORK/k8s/overlays/$OVERLAY" | "$KUBECTL" apply -f -
}

wait_rollouts() {
  local workload
  for workload in $("$KUBECTL" -n "$NAMESPACE" get deployments,statefulsets -o name); do
    step "waiting for $workload (timeout $TIMEOUT)"
    "$KUBECTL" -n "$NAMESPACE" rollout status "$workload" --timeout="$TIMEOUT"
  done
}

[[ ${1:-} == -h || ${1:-} == --help ]] && { usage; exit 0; }
[[ $# -ge 1 && $# -le 2 ]] || { usage; exit 2; }
OVERLAY=$1
TAG=${2:-${TAG:-$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo dev)}}

check_tools
read_services
set_tags
apply
wait_rollouts
step "deployed $OVERLAY with tag $TAG"
