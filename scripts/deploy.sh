#!/bin/sh
# Deploys one overlay of k8s/ with the images of one build: copies k8s/ to a temp dir, sets every
# image of services.txt there (kustomize edit set image), renders and applies the overlay, and waits
# for every rollout. The images: by tag (shop-NAME=*:TAG), or exactly the refs of IMAGES_FILE (lines
# "name ref", e.g. "catalog localhost:5001/shop-catalog@sha256:...", as scripts/kind-up.sh and the
# Jenkins pipeline write). A service that IMAGES_FILE does not list keeps the image it runs: the
# pipeline lists only what the commit changed (xtask affected).
# With REVISIONS_FILE, it first writes there the revision of every Deployment ("name revision"):
# what `scripts/rollback.sh --from REVISIONS_FILE` returns to if this deploy fails.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() {
  echo "usage: $0 OVERLAY [TAG]   OVERLAY: a directory of k8s/overlays (kind, minikube, production)"
  echo "  TAG: the image tag (default \$TAG, else the tree's tag, as scripts/build-images.sh tags)"
  echo "  env: IMAGES_FILE (deploy exactly these refs), REVISIONS_FILE (record the revisions before),"
  echo "       TIMEOUT per rollout (default 300s), KUBECTL, KUSTOMIZE"
}
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  '' | -*) usage >&2; exit 2 ;;
esac
[ $# -le 2 ] || { usage >&2; exit 2; }

OVERLAY=$1
KUBECTL=${KUBECTL:-kubectl}
KUSTOMIZE=${KUSTOMIZE:-kustomize}
T=$(seconds "${TIMEOUT:-300}")
IMAGES_FILE=${IMAGES_FILE:-}
REVISIONS_FILE=${REVISIONS_FILE:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shop-deploy.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

check_inputs() {
  need "$KUBECTL" "$KUSTOMIZE"
  [ -d "$ROOT/k8s/overlays/$OVERLAY" ] || { usage >&2; die "no overlay k8s/overlays/$OVERLAY"; }
  if [ -n "$IMAGES_FILE" ]; then
    [ -f "$IMAGES_FILE" ] || die "IMAGES_FILE $IMAGES_FILE does not exist"
    IMAGES="the refs of $IMAGES_FILE"
  else
    TAG=${2:-${TAG:-$(image_tag)}}
    IMAGES="tag $TAG"
  fi
}

set_images() {
  step "setting the images ($IMAGES) in a temp copy of k8s/"
  cp -R "$ROOT/k8s" "$WORK/"
  for name in $(service_names); do
    if [ -n "$IMAGES_FILE" ]; then
      ref=$(awk -v n="$name" '$1 == n { print $2; exit }' "$IMAGES_FILE")
      [ -n "$ref" ] || ref=$(running_image "$name")
      [ -n "$ref" ] || continue
    else
      ref="*:$TAG"
    fi
    (cd "$WORK/k8s/overlays/$OVERLAY" && "$KUSTOMIZE" edit set image "shop-$name=$ref")
    note "shop-$name=$ref"
  done
}

# running_image NAME: the image the Deployment NAME runs now (not rebuilt by this build), on stdout
# (what it says, on stderr). A tool
# (services.txt kind "tool") has no Deployment: nothing to set. A service that runs nowhere yet must
# be built: the first build of a cluster builds everything.
running_image() {
  _image=$(deployed_image "$1")
  if [ -n "$_image" ]; then
    note "$1: not in $IMAGES_FILE, keeps the image it runs" >&2
    printf '%s\n' "$_image"
  elif [ "$(awk -v n="$1" '$1 == n { print $2 }' "$ROOT/services.txt")" = tool ]; then
    note "$1: not in $IMAGES_FILE, a tool without a Deployment: nothing to set" >&2
  else
    die "$IMAGES_FILE has no line for $1, and no Deployment $1 runs: build it (scripts/ci/buildkit-build.sh $1)"
  fi
}

# record_revisions: every Deployment's revision, before anything changes, into REVISIONS_FILE.
record_revisions() {
  [ -n "$REVISIONS_FILE" ] || return 0
  step "recording the revision of every Deployment in $REVISIONS_FILE (scripts/rollback.sh --from)"
  mkdir -p "$(dirname "$REVISIONS_FILE")"
  "$KUBECTL" -n "$NAMESPACE" get deployments \
    -o 'jsonpath={range .items[*]}{.metadata.name}{" "}{.metadata.annotations.deployment\.kubernetes\.io/revision}{"\n"}{end}' \
    >"$REVISIONS_FILE"
  sed 's/^/    /' "$REVISIONS_FILE"
}

# In a pod (a Jenkins agent) there is no kubeconfig, only the service account: no current context.
apply() {
  context=$("$KUBECTL" config current-context 2>/dev/null) || context="in-cluster (service account)"
  step "applying k8s/overlays/$OVERLAY to $context"
  "$KUSTOMIZE" build "$WORK/k8s/overlays/$OVERLAY" >"$WORK/rendered.yaml"
  "$KUBECTL" apply --request-timeout=120s -f "$WORK/rendered.yaml"
}

wait_rollouts() {
  for workload in $("$KUBECTL" -n "$NAMESPACE" get deployments,statefulsets -o name); do
    step "waiting for $workload (timeout ${T}s)"
    "$KUBECTL" -n "$NAMESPACE" rollout status "$workload" --timeout="${T}s"
  done
}

check_inputs "$@"
set_images
record_revisions
apply
wait_rollouts
step "deployed $OVERLAY with $IMAGES"
