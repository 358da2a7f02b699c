#!/bin/sh
# From nothing to a running shop on kind: a local registry, the cluster, the Gateway API CRDs and
# Traefik, the images built and pushed (and deployed by digest), every rollout waited for, then a
# smoke test. Versions come from k8s/versions.env. Safe to re-run: each step skips what exists.
# Teardown: scripts/kind-down.sh
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() {
  echo "usage: $0 [-h]   env: CLUSTER (default shop), TAG (default: from the git tree), DOCKER (docker),"
  echo "  TIMEOUT per rollout (default 300s)"
}
case ${1:-} in
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

CLUSTER=${CLUSTER:-shop}
DOCKER=${DOCKER:-docker}
T=$(seconds "${TIMEOUT:-300}")
REGISTRY_NAME=kind-registry
REGISTRY=localhost:5001
KIND_IMAGES=${TMPDIR:-/tmp}/shop-kind-$CLUSTER-images.txt # "name ref" lines for deploy.sh
read_versions
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shop-kind-up.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

check_tools() {
  step "checking tools"
  need "$DOCKER" kind kubectl kustomize curl jq git
  version=$(kind version | awk '{print $2}')
  if version_older "$version" "$KIND_VERSION"; then
    warn "kind $version is older than $KIND_VERSION (k8s/versions.env), the version this was tested with"
  fi
  TAG=${TAG:-$(image_tag)}
}

start_registry() {
  step "local registry $REGISTRY_NAME ($REGISTRY_IMAGE) on $REGISTRY"
  if [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$REGISTRY_NAME" 2>/dev/null)" = true ]; then
    note "already running"
    return 0
  fi
  "$DOCKER" rm -f "$REGISTRY_NAME" >/dev/null 2>&1 || true
  "$DOCKER" run -d --restart=always -p "127.0.0.1:5001:5000" --network bridge \
    --name "$REGISTRY_NAME" "$REGISTRY_IMAGE" >/dev/null
}

# An existing cluster made by an older version of these scripts (Kubernetes 1.32, ingress-nginx on
# the host's port 80, no port 30080 for Traefik) would be reused and fail later, obscurely.
check_existing_cluster() {
  version=$(kubectl --context "kind-$CLUSTER" --request-timeout=20s get nodes \
    -o jsonpath='{.items[0].status.nodeInfo.kubeletVersion}') ||
    die "cannot reach the existing cluster $CLUSTER: is its node running? (docker start $CLUSTER-control-plane)"
  mapped=$("$DOCKER" port "$CLUSTER-control-plane" 30080/tcp 2>/dev/null || true)
  if [ -z "$mapped" ] || version_older "$version" "$KUBERNETES_VERSION"; then
    die "the existing kind cluster $CLUSTER (Kubernetes $version) was made by an older version of this project
    (it needs $KUBERNETES_VERSION and Traefik's port 30080 published). Recreate it:
      CLUSTER=$CLUSTER KEEP_REGISTRY=1 scripts/kind-down.sh && CLUSTER=$CLUSTER scripts/kind-up.sh
    (its PostgreSQL data goes with it: PostgreSQL 17 data would need pg_upgrade for 18 anyway)"
  fi
}

create_cluster() {
  step "kind cluster $CLUSTER (node image $KIND_NODE_IMAGE)"
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    note "already exists"
    check_existing_cluster
  else
    kind create cluster --name "$CLUSTER" --image "$KIND_NODE_IMAGE" \
      --config "$ROOT/k8s/overlays/kind/cluster.yaml" --wait="${T}s"
  fi
  kubectl config use-context "kind-$CLUSTER" >/dev/null
}

# As the kind docs describe: each node's containerd maps localhost:5001 to the registry container,
# the registry joins the docker network "kind", and a ConfigMap documents the registry for tools.
connect_registry() {
  step "pointing the nodes' containerd at the registry"
  dir=/etc/containerd/certs.d/$REGISTRY
  for node in $(kind get nodes --name "$CLUSTER"); do
    "$DOCKER" exec "$node" mkdir -p "$dir"
    printf '[host."http://%s:5000"]\n' "$REGISTRY_NAME" | "$DOCKER" exec -i "$node" cp /dev/stdin "$dir/hosts.toml"
  done
  if [ "$("$DOCKER" inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REGISTRY_NAME")" = null ]; then
    "$DOCKER" network connect kind "$REGISTRY_NAME"
  fi
  kubectl apply --request-timeout=60s -f - <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "$REGISTRY"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
YAML
}

# Each image is deployed by the digest the registry gives it on push: what runs is exactly what was built.
build_and_push() {
  step "building the images (tag $TAG) and pushing them to $REGISTRY"
  REGISTRY=$REGISTRY TAG=$TAG DOCKER=$DOCKER "$ROOT/scripts/build-images.sh"
  : >"$WORK/images.txt"
  for name in $(service_names); do
    repo=$REGISTRY/shop-$name
    "$DOCKER" push "$repo:$TAG" >/dev/null
    ref=$("$DOCKER" inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$repo:$TAG" | grep -F "$repo@" | head -n 1)
    if [ -z "$ref" ]; then
      warn "the registry gave no digest for $repo:$TAG: deploying it by tag"
      ref=$repo:$TAG
    fi
    echo "$name $ref" >>"$WORK/images.txt"
    note "pushed $ref"
  done
  mv "$WORK/images.txt" "$KIND_IMAGES"
}

deploy() {
  step "deploying the kind overlay with the pushed images ($KIND_IMAGES)"
  IMAGES_FILE=$KIND_IMAGES TIMEOUT=$T "$ROOT/scripts/deploy.sh" kind "$TAG"
}

smoke_test() {
  step "smoke test through the ingress"
  "$ROOT/scripts/smoke-test.sh" http://localhost
  echo
  echo "The shop runs at http://localhost (also http://shop.localtest.me). Try:"
  echo "  open http://localhost/ in a browser: the storefront; /behind-the-scenes shows which pods answer"
  echo "  curl -s http://localhost/api/v1/products | jq ."
  echo "  scripts/verify-cluster.sh          # self-healing, scaling, rolling updates, network policies"
  echo "  IMAGES_FILE=$KIND_IMAGES scripts/deploy.sh kind   # deploy these images again"
}

check_tools
start_registry
create_cluster
connect_registry
install_gateway_api
install_traefik
build_and_push
deploy
smoke_test
