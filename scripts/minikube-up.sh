#!/bin/sh
# From nothing to a running shop on minikube: the cluster (Kubernetes from k8s/versions.env, Calico so
# that network policies work), metrics-server, the Gateway API CRDs and Traefik (as on kind), the
# images built inside minikube's Docker daemon, the minikube overlay applied and every rollout waited
# for, then a smoke test through the ingress. Safe to re-run. Teardown: scripts/minikube-down.sh
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() {
  echo "usage: $0 [-h]   env: PROFILE (default shop), TAG (default: from the git tree), DRIVER (docker),"
  echo "  CPUS (4), MEMORY (4g; at most what Docker Desktop is given, less 1g), TIMEOUT per rollout (300s),"
  echo "  PORT_FORWARD_PORT (8080)"
}
case ${1:-} in
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

PROFILE=${PROFILE:-shop}
T=$(seconds "${TIMEOUT:-300}")
PF_PORT=${PORT_FORWARD_PORT:-8080}
PF_PID=${TMPDIR:-/tmp}/shop-minikube-$PROFILE-port-forward.pid
PF_LOG=${TMPDIR:-/tmp}/shop-minikube-$PROFILE-port-forward.log
read_versions
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shop-minikube-up.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

check_tools() {
  step "checking tools"
  need minikube docker kubectl kustomize curl jq git
  version=$(minikube version --short)
  if version_older "$version" "$MINIKUBE_VERSION"; then
    warn "minikube $version is older than $MINIKUBE_VERSION (k8s/versions.env), the version this was tested with"
  fi
  TAG=${TAG:-$(image_tag)}
}

start_cluster() {
  step "minikube profile $PROFILE (Kubernetes $KUBERNETES_VERSION)"
  # A profile made by an older version of this project, running or stopped, is refused: `minikube
  # start` would try to upgrade it in place and keep its old addons.
  existing=$(minikube profile list -o json 2>/dev/null | jq -r --arg p "$PROFILE" \
    '[.valid[]?, .invalid[]?] | map(select(.Name == $p)) | .[0].Config.KubernetesConfig.KubernetesVersion // empty')
  if [ -n "$existing" ] && version_older "$existing" "$KUBERNETES_VERSION"; then
    die "the minikube profile $PROFILE runs Kubernetes $existing, older than $KUBERNETES_VERSION:
      recreate it: PROFILE=$PROFILE scripts/minikube-down.sh && PROFILE=$PROFILE scripts/minikube-up.sh"
  fi
  if minikube -p "$PROFILE" status >/dev/null 2>&1; then
    note "already running"
  else
    minikube start -p "$PROFILE" --driver="${DRIVER:-docker}" --container-runtime=docker --cni=calico \
      --kubernetes-version="$KUBERNETES_VERSION" --cpus="${CPUS:-4}" --memory="${MEMORY:-4g}"
  fi
  kubectl config use-context "$PROFILE" >/dev/null
}

enable_metrics() {
  step "addon metrics-server (kubectl top, and the autoscaling component's HPA)"
  minikube -p "$PROFILE" addons enable metrics-server
}

# Built straight into the node's Docker daemon: no registry, no push (imagePullPolicy IfNotPresent),
# so no digest either: the tag changes with the content (scripts/lib/common.sh image_tag).
build_images() {
  step "building the images (tag $TAG) in minikube's Docker daemon"
  env_lines=$(minikube -p "$PROFILE" docker-env --shell bash)
  (
    eval "$env_lines"
    TAG=$TAG DOCKER=docker "$ROOT/scripts/build-images.sh"
  )
}

deploy() {
  step "deploying the minikube overlay"
  IMAGES_FILE='' TIMEOUT=$T "$ROOT/scripts/deploy.sh" minikube "$TAG"
}

# Traefik's NodePort 30080 on the node's IP answers on Linux (and with VM drivers); with the docker
# driver on macOS and Windows the node is inside Docker's VM, out of reach: then a kubectl
# port-forward to Traefik's Service, left running in the background.
choose_url() {
  step "finding how this machine reaches the ingress"
  stop_port_forward "$PF_PID"
  ip=$(minikube -p "$PROFILE" ip)
  if [ "$(http_status "http://$ip:30080/api/v1/products" 5)" != 000 ]; then
    URL=http://$ip:30080
    note "using $URL: Traefik's NodePort on the node's IP answers from this machine"
    return 0
  fi
  : >"$PF_LOG"
  # SIGHUP ignored (what nohup does): it outlives this script and the terminal it ran in.
  (
    trap '' HUP
    exec kubectl -n traefik port-forward svc/traefik "$PF_PORT:80"
  ) >>"$PF_LOG" 2>&1 &
  echo $! >"$PF_PID"
  URL=http://localhost:$PF_PORT
  deadline=$(($(now) + 30))
  until grep -q '^Forwarding from' "$PF_LOG"; do
    kill -s 0 "$(cat "$PF_PID")" 2>/dev/null || die "kubectl port-forward stopped: $(cat "$PF_LOG")"
    [ "$(now)" -lt "$deadline" ] || die "kubectl port-forward did not start within 30 s: $(cat "$PF_LOG")"
    sleep 1
  done
  note "using $URL: http://$ip:30080 does not answer from here (the docker driver on macOS and Windows keeps"
  note "the node inside Docker's VM), so kubectl port-forward runs in the background (pid $(cat "$PF_PID"))."
  note "Stop it with: kill $(cat "$PF_PID")   (scripts/minikube-down.sh and a re-run stop it too)"
}

smoke_test() {
  step "smoke test against $URL"
  "$ROOT/scripts/smoke-test.sh" "$URL"
  echo
  echo "The shop runs at $URL. Try:"
  echo "  open $URL/ in a browser: the storefront; /behind-the-scenes shows which pods answer"
  echo "  curl -s $URL/api/v1/products | jq ."
  echo "  scripts/verify-cluster.sh $URL"
}

check_tools
start_cluster
enable_metrics
install_gateway_api
install_traefik
build_images
deploy
choose_url
smoke_test
