#!/usr/bin/env bash
# From nothing to a running shop on minikube: the cluster (with Calico, so network policies work),
# the ingress and metrics-server addons, the images built inside minikube's Docker daemon, the
# minikube overlay applied, every rollout waited for, then a smoke test.
# Safe to re-run: each step skips what already exists. Teardown: scripts/minikube-down.sh
set -euo pipefail

usage() { echo "usage: $0   env: PROFILE (default shop), TAG (default git sha), CPUS (4), MEMORY (6g)"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROFILE=${PROFILE:-shop}
TAG=${TAG:-$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo dev)}

step() { echo "==> $*"; }

check_tools() {
  step "checking tools"
  local tool
  for tool in minikube docker kubectl kustomize curl jq; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found on PATH" >&2; exit 1; }
  done
}

start_cluster() {
  step "minikube profile $PROFILE"
  if ! minikube -p "$PROFILE" status >/dev/null 2>&1; then
    minikube start -p "$PROFILE" --driver=docker --container-runtime=docker --cni=calico \
      --cpus="${CPUS:-4}" --memory="${MEMORY:-6g}"
  fi
  kubectl config use-context "$PROFILE" >/dev/null
}

enable_addons() {
  step "addons ingress and metrics-server"
  minikube -p "$PROFILE" addons enable ingress
  minikube -p "$PROFILE" addons enable metrics-server
  kubectl -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s
}

# Built straight into the node's Docker daemon: no registry, no push (imagePullPolicy IfNotPresent).
build_images() {
  step "building images tagged $TAG in minikube's Docker daemon"
  (
    eval "$(minikube -p "$PROFILE" docker-env)"
    TAG=$TAG DOCKER=$(command -v docker) "$ROOT/scripts/build-images.sh"
  )
}

deploy() {
  step "deploying the minikube overlay"
  "$ROOT/scripts/deploy.sh" minikube "$TAG"
}

smoke_test() {
  local url
  url="http://$(minikube -p "$PROFILE" ip)"
  step "smoke test against $url"
  "$ROOT/scripts/smoke-test.sh" "$url"
  echo
  echo "The shop runs at $url (on macOS/Windows run 'minikube -p $PROFILE tunnel' and use http://127.0.0.1). Try:"
  echo "  curl -s $url/api/v1/products | jq ."
}

check_tools
start_cluster
enable_addons
build_images
deploy
smoke_test
