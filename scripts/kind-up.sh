#!/usr/bin/env bash
# From nothing to a running shop on kind: a local registry, the cluster, ingress-nginx, the images
# built and pushed, the kind overlay applied, every rollout waited for, then a smoke test.
# Safe to re-run: each step skips what already exists. Teardown: scripts/kind-down.sh
set -euo pipefail

usage() { echo "usage: $0   env: CLUSTER (default shop), TAG (default git sha), DOCKER (default docker)"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLUSTER=${CLUSTER:-shop}
DOCKER=${DOCKER:-docker}
REGISTRY_NAME=kind-registry
REGISTRY_PORT=5001
INGRESS_NGINX_URL=https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.12.1/deploy/static/provider/kind/deploy.yaml
TAG=${TAG:-$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo dev)}

step() { echo "==> $*"; }

check_tools() {
  step "checking tools"
  local tool
  for tool in "$DOCKER" kind kubectl kustomize curl jq; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found on PATH" >&2; exit 1; }
  done
}

start_registry() {
  step "local registry $REGISTRY_NAME on localhost:$REGISTRY_PORT"
  if [[ $("$DOCKER" inspect -f '{{.State.Running}}' "$REGISTRY_NAME" 2>/dev/null) != true ]]; then
    "$DOCKER" rm -f "$REGISTRY_NAME" >/dev/null 2>&1 || true
    "$DOCKER" run -d --restart=always -p "127.0.0.1:$REGISTRY_PORT:5000" --network bridge \
      --name "$REGISTRY_NAME" registry:2
  fi
}

create_cluster() {
  step "kind cluster $CLUSTER"
  if ! kind get clusters | grep -qx "$CLUSTER"; then
    kind create cluster --name "$CLUSTER" --config "$ROOT/k8s/overlays/kind/cluster.yaml"
  fi
  kubectl config use-context "kind-$CLUSTER" >/dev/null
}

# As the kind docs describe: each node's containerd maps localhost:5001 to the registry container,
# the registry joins the kind network, and a ConfigMap documents the registry for tools.
connect_registry() {
  step "pointing the nodes' containerd at the registry"
  local node dir="/etc/containerd/certs.d/localhost:$REGISTRY_PORT"
  for node in $(kind get nodes --name "$CLUSTER"); do
    "$DOCKER" exec "$node" mkdir -p "$dir"
    printf '[host."http://%s:5000"]\n' "$REGISTRY_NAME" | "$DOCKER" exec -i "$node" cp /dev/stdin "$dir/hosts.toml"
  done
  if [[ $("$DOCKER" inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REGISTRY_NAME") == null ]]; then
    "$DOCKER" network connect kind "$REGISTRY_NAME"
  fi
  kubectl apply -f - <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "localhost:$REGISTRY_PORT"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
YAML
}

install_ingress() {
  step "ingress-nginx"
  kubectl apply -f "$INGRESS_NGINX_URL"
  kubectl -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s
}

build_and_push() {
  step "building and pushing images tagged $TAG"
  REGISTRY=localhost:$REGISTRY_PORT TAG=$TAG DOCKER=$(command -v "$DOCKER") "$ROOT/scripts/build-images.sh"
  local svc services
  read -ra services <<<"$(sed -n 's/^\(SERVICES\|TOOLS\)=(\(.*\))$/\2/p' "$ROOT/scripts/build-images.sh" | tr '\n' ' ')"
  for svc in "${services[@]}"; do
    "$DOCKER" push "localhost:$REGISTRY_PORT/shop-$svc:$TAG"
  done
}

deploy() {
  step "deploying the kind overlay"
  "$ROOT/scripts/deploy.sh" kind "$TAG"
}

smoke_test() {
  step "smoke test"
  "$ROOT/scripts/smoke-test.sh" http://localhost
  echo
  echo "The shop runs at http://localhost (also http://shop.localtest.me). Try:"
  echo "  curl -s http://localhost/api/v1/products | jq ."
}

check_tools
start_registry
create_cluster
connect_registry
install_ingress
build_and_push
deploy
smoke_test
