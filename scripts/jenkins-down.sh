#!/bin/sh
# Removes what scripts/jenkins-up.sh created: the namespace jenkins (controller, its volume, build
# pods), the agents' RBAC objects outside it, and the git server container. The shop keeps running,
# and jenkins/admin.env stays (delete it to get a new password next time).
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

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
  step "deleting namespace jenkins"
  kube delete namespace jenkins --ignore-not-found --timeout=300s
}

delete_rbac() {
  step "deleting the agents' Role in $NAMESPACE and ClusterRole for the namespace $NAMESPACE"
  kube -n "$NAMESPACE" delete rolebinding,role jenkins-deployer --ignore-not-found --timeout=60s
  kube delete clusterrolebinding,clusterrole jenkins-deployer-namespace-shop --ignore-not-found --timeout=60s
}

delete_git_server() {
  step "removing the git server container shop-git"
  "$DOCKER" rm -f shop-git >/dev/null 2>&1 || true
}

need kubectl "$DOCKER"
delete_git_server
if kubectl config get-contexts -o name 2>/dev/null | grep -qx "kind-$CLUSTER"; then
  delete_jenkins
  delete_rbac
else
  note "no kind cluster $CLUSTER (context kind-$CLUSTER): nothing to delete in it"
fi
step "Jenkins removed"
