#!/bin/sh
# Jenkins in the kind cluster of scripts/kind-up.sh: a git server for this clone, the controller image
# (jenkins/Dockerfile) and the build pods' tools image (jenkins/ci-tools/Dockerfile) pushed to the kind
# registry, the admin password in jenkins/admin.env (generated once), then `jenkins/` applied with
# Kustomize, and git hooks in this clone that tell Jenkins about each commit. Waits until Jenkins is
# ready and prints how to log in.
# Safe to re-run: each step skips what already exists. Teardown: scripts/jenkins-down.sh
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/git-hook.sh disable=SC1091
. "$ROOT/scripts/lib/git-hook.sh"

usage() {
  echo "usage: $0 [-h]   env: CLUSTER (default shop), DOCKER (default docker), TIMEOUT (default 600s),"
  echo "  JENKINS_URL (default http://jenkins.localtest.me: what the git hooks call)"
}
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
JENKINS_URL=${JENKINS_URL:-http://jenkins.localtest.me}
AGENT_POD=$ROOT/jenkins/agent-pod.yaml
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shop-jenkins-up.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

check_cluster() {
  step "checking tools and the kind cluster $CLUSTER"
  need "$DOCKER" kubectl kustomize git
  kubectl config use-context "kind-$CLUSTER" >/dev/null 2>&1 ||
    die "no kind cluster $CLUSTER: run scripts/kind-up.sh first (Jenkins runs on kind only: it uses kind's registry and docker network; on minikube, run the pipeline's scripts by hand, docs/jenkins.md)"
  # The tag: a hash of what goes into the image, so a new plugin list gives a new tag (and pod).
  TAG=$(cat "$ROOT/jenkins/Dockerfile" "$ROOT/jenkins/plugins.txt" | git hash-object --stdin | cut -c1-12)
  IMAGE=$REGISTRY/shop-jenkins:$TAG
  # The build pods' tools: the hash of their Dockerfile (its only input), which jenkins/agent-pod.yaml
  # names literally (a pod template cannot be templated here; tests/jenkinsfile.rs checks the same).
  CI_TOOLS_TAG=$(git hash-object "$ROOT/jenkins/ci-tools/Dockerfile" | cut -c1-12)
  CI_TOOLS_IMAGE=$REGISTRY/shop-ci-tools:$CI_TOOLS_TAG
  grep -qF "image: $CI_TOOLS_IMAGE" "$AGENT_POD" ||
    die "jenkins/ci-tools/Dockerfile changed: set the image of the rust container in jenkins/agent-pod.yaml
       to $CI_TOOLS_IMAGE (and commit both), then re-run $0"
  # The git hooks call Jenkins with the job's remote, as written in the kustomization.
  GIT_URL=$(sed -n 's/^ *- SHOP_GIT_URL=//p' "$ROOT/jenkins/kustomization.yaml")
  [ -n "$GIT_URL" ] || die "no SHOP_GIT_URL=... in jenkins/kustomization.yaml"
}

# build_image IMAGE DIR WHAT: builds DIR (unless an image of that hash tag exists) and pushes it.
build_image() {
  step "$3: $1"
  if ! "$DOCKER" image inspect "$1" >/dev/null 2>&1; then
    "$DOCKER" build -t "$1" "$2"
  fi
  "$DOCKER" push "$1" >/dev/null
}

# `git daemon` serving this clone read-only as git://shop-git/shop, on the docker network `kind`
# (like the registry): pods resolve the container's name. It serves what you commit, live.
# The controller image has git (Debian's, with git-daemon), so it is reused here. safe.directory:
# git refuses to serve a repository another user owns, and on Docker Desktop (macOS) the mounted
# files may show another owner than the container's user.
start_git_server() {
  step "git server $GIT_SERVER: git://$GIT_SERVER/shop serves $ROOT"
  if [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$GIT_SERVER" 2>/dev/null)" = true ]; then
    note "already running"
    return 0
  fi
  "$DOCKER" rm -f "$GIT_SERVER" >/dev/null 2>&1 || true
  "$DOCKER" run -d --restart=always --name "$GIT_SERVER" --network kind \
    --user "$(id -u):$(id -g)" -v "$ROOT:/srv/git/shop:ro" \
    -e GIT_CONFIG_COUNT=1 -e GIT_CONFIG_KEY_0=safe.directory -e GIT_CONFIG_VALUE_0='*' --entrypoint git "$IMAGE" \
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

# An older jenkins/ ran the build pods in the namespace jenkins; kubectl apply does not remove what the
# manifests no longer contain.
remove_old_objects() {
  step "removing the build pods' objects that older versions kept in the namespace jenkins"
  kubectl -n jenkins delete --ignore-not-found --request-timeout=60s \
    serviceaccount/jenkins-agent role/jenkins-agents rolebinding/jenkins-agents networkpolicy/shop-ci-agent
  # Older versions made "shop" a single-branch pipeline job; Job DSL cannot turn a job into a
  # multibranch one of the same name (the controller would not start): remove the old job first.
  if kubectl -n jenkins get deployment jenkins >/dev/null 2>&1 &&
    kubectl -n jenkins exec deploy/jenkins -c jenkins --request-timeout=60s -- \
      grep -q '<flow-definition' /var/jenkins_home/jobs/shop/config.xml 2>/dev/null; then
    note "the job shop is a single-branch job of an older version: removed (with its build history)"
    kubectl -n jenkins exec deploy/jenkins -c jenkins --request-timeout=60s -- rm -rf /var/jenkins_home/jobs/shop
  fi
}

apply() {
  step "kubectl apply: jenkins/ with image tag $TAG"
  cp -R "$ROOT/jenkins" "$WORK/"
  (cd "$WORK/jenkins" && kustomize edit set image "shop-jenkins=*:$TAG")
  kustomize build "$WORK/jenkins" >"$WORK/rendered.yaml"
  kubectl apply --request-timeout=120s -f "$WORK/rendered.yaml"
}

git_hooks() {
  step "git hooks in this clone: a commit makes Jenkins scan $GIT_URL"
  install_notify_hooks "$ROOT" "$JENKINS_URL" "$GIT_URL"
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
  echo "The job 'shop' builds every branch of $GIT_URL (this clone): a commit starts a build of its branch;"
  echo "builds of main also deploy. Build pods run in the namespace jenkins-builds."
  if [ "$branch" != main ]; then
    echo "Note: you are on branch '$branch'; its builds test and build images, only main deploys."
  fi
}

check_cluster
build_image "$IMAGE" "$ROOT/jenkins" "controller image (jenkins/Dockerfile + plugins.txt)"
build_image "$CI_TOOLS_IMAGE" "$ROOT/jenkins/ci-tools" "build pods' tools image (jenkins/ci-tools/Dockerfile)"
start_git_server
admin_password
shop_namespace
remove_old_objects
apply
git_hooks
wait_ready
print_login
