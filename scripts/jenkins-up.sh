#!/bin/sh
# Jenkins in the kind cluster of scripts/kind-up.sh: a git server for this clone, the controller image
# (jenkins/Dockerfile) pushed to the kind registry, the admin password in jenkins/admin.env (generated
# once), then `jenkins/` applied with Kustomize. Waits until Jenkins is ready and prints how to log in.
# Safe to re-run: each step skips what already exists. Teardown: scripts/jenkins-down.sh
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() { echo "usage: $0 [-h]   env: CLUSTER (default shop), DOCKER (default docker), TIMEOUT (default 600s)"; }
case ${1:-} in
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

CLUSTER=${CLUSTER:-shop}
DOCKER=${DOCKER:-docker}
T=$(seconds "${TIMEOUT:-600}")
REGISTRY=localhost:5001
GIT_SERVER=shop-git
ADMIN_ENV=$ROOT/jenkins/admin.env
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shop-jenkins-up.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

check_cluster() {
  step "checking tools and the kind cluster $CLUSTER"
  need "$DOCKER" kubectl kustomize git
  kubectl config use-context "kind-$CLUSTER" >/dev/null 2>&1 ||
    die "no kind cluster $CLUSTER: run scripts/kind-up.sh first"
  # The tag: a hash of what goes into the image, so a new plugin list gives a new tag (and pod).
  TAG=$(cat "$ROOT/jenkins/Dockerfile" "$ROOT/jenkins/plugins.txt" | git hash-object --stdin | cut -c1-12)
  IMAGE=$REGISTRY/shop-jenkins:$TAG
}

build_image() {
  step "controller image $IMAGE (jenkins/Dockerfile + plugins.txt)"
  if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
    "$DOCKER" build -t "$IMAGE" "$ROOT/jenkins"
  fi
  "$DOCKER" push "$IMAGE" >/dev/null
}

# `git daemon` serving this clone read-only as git://shop-git/shop, on the docker network `kind`
# (like the registry): pods resolve the container's name. It serves what you commit, live.
# The controller image has git (Debian's, with git-daemon), so it is reused here.
start_git_server() {
  step "git server $GIT_SERVER: git://$GIT_SERVER/shop serves $ROOT"
  if [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$GIT_SERVER" 2>/dev/null)" = true ]; then
    note "already running"
    return 0
  fi
  "$DOCKER" rm -f "$GIT_SERVER" >/dev/null 2>&1 || true
  "$DOCKER" run -d --restart=always --name "$GIT_SERVER" --network kind \
    --user "$(id -u):$(id -g)" -v "$ROOT:/srv/git/shop:ro" --entrypoint git "$IMAGE" \
    daemon --reuseaddr --export-all --base-path=/srv/git /srv/git >/dev/null
}

# jenkins/admin.env feeds the Secret (secretGenerator). Kept across runs; recovered from the cluster
# if this clone lacks it; generated otherwise.
admin_password() {
  step "admin password in jenkins/admin.env (not in git)"
  [ -s "$ADMIN_ENV" ] && return 0
  password=
  secret=$(kubectl -n jenkins get deployment jenkins \
    -o jsonpath='{.spec.template.spec.volumes[?(@.name=="admin")].secret.secretName}' 2>/dev/null) || true
  if [ -n "$secret" ]; then
    password=$(kubectl -n jenkins get secret "$secret" -o go-template='{{.data.ADMIN_PASSWORD | base64decode}}')
  fi
  [ -n "$password" ] || password=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
  (umask 077 && printf 'ADMIN_PASSWORD=%s\n' "$password" >"$ADMIN_ENV")
}

# The agents may only patch the namespace shop, not create it: make sure it exists (the shop's own).
shop_namespace() {
  step "namespace $NAMESPACE (k8s/base/namespace.yaml)"
  kubectl apply --request-timeout=60s -f "$ROOT/k8s/base/namespace.yaml" >/dev/null
}

apply() {
  step "kubectl apply: jenkins/ with image tag $TAG"
  cp -R "$ROOT/jenkins" "$WORK/"
  (cd "$WORK/jenkins" && kustomize edit set image "shop-jenkins=*:$TAG")
  kustomize build "$WORK/jenkins" >"$WORK/rendered.yaml"
  kubectl apply --request-timeout=120s -f "$WORK/rendered.yaml"
}

wait_ready() {
  step "waiting for Jenkins (first start: plugins and configuration, a minute or two)"
  kubectl -n jenkins rollout status deployment/jenkins --timeout="${T}s"
}

print_login() {
  branch=$(git -C "$ROOT" branch --show-current)
  echo
  echo "Jenkins is ready:  http://jenkins.localtest.me   (or: kubectl -n jenkins port-forward svc/jenkins 8080:8080,"
  echo "                   then http://localhost:8080)"
  echo "Log in as admin, password: $(sed -n 's/^ADMIN_PASSWORD=//p' "$ADMIN_ENV")   (kept in jenkins/admin.env)"
  echo "The job 'shop' builds branch main of git://$GIT_SERVER/shop (this clone; commit to trigger a build)."
  if [ "$branch" != main ]; then
    echo "Note: you are on branch '$branch'; the job builds 'main' (SHOP_GIT_BRANCH in jenkins/kustomization.yaml)."
  fi
}

check_cluster
build_image
start_git_server
admin_password
shop_namespace
apply
wait_ready
print_login
