#!/bin/sh
# Removes what scripts/jenkins-up.sh created: the git hooks it put in this clone (only its own), the
# git server container, the namespaces jenkins (controller, its volume) and jenkins-builds (build pods,
# the cargo cache), and the agents' RBAC objects outside them. The shop keeps running, the images stay
# in the registry, and jenkins/admin.env stays (delete it to get a new password next time).
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/git-hook.sh disable=SC1091
. "$ROOT/scripts/lib/git-hook.sh"

usage() { echo "usage: $0 [-h]   env: CLUSTER (default shop), DOCKER (default docker)"; }
case ${1:-} in
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

DOCKER=${DOCKER:-docker}
CLUSTER=${CLUSTER:-shop}
# Always the kind cluster jenkins-up.sh used, whatever the current context is.
kube() { kubectl --context "kind-$CLUSTER" "$@"; }

delete_jenkins() {
  step "deleting the namespaces jenkins and jenkins-builds (the cargo cache of the builds with it)"
  kube delete namespace jenkins jenkins-builds --ignore-not-found --timeout=300s
}

delete_rbac() {
  step "deleting the agents' Role in $NAMESPACE and ClusterRole for the namespace $NAMESPACE"
  kube -n "$NAMESPACE" delete rolebinding,role jenkins-deployer --ignore-not-found --timeout=60s
  kube delete clusterrolebinding,clusterrole jenkins-deployer-namespace-shop --ignore-not-found --timeout=60s
}

delete_git_hooks() {
  step "removing the git hooks of scripts/jenkins-up.sh from this clone"
  remove_notify_hooks "$ROOT"
}

delete_git_server() {
  step "removing the git server container shop-git"
  "$DOCKER" rm -f shop-git >/dev/null 2>&1 || true
}

need kubectl "$DOCKER"
delete_git_hooks
delete_git_server
if kubectl config get-contexts -o name 2>/dev/null | grep -qx "kind-$CLUSTER"; then
  delete_jenkins
  delete_rbac
else
  note "no kind cluster $CLUSTER (context kind-$CLUSTER): nothing to delete in it"
fi
step "Jenkins removed"
