#!/usr/bin/env bash
# Removes what scripts/jenkins-up.sh created: the namespace jenkins (controller, its volume, build
# pods), the agents' RBAC objects outside it, and the git server container. The shop keeps running,
# and jenkins/admin.env stays (delete it to get a new password next time).
set -euo pipefail

usage() { echo "usage: $0   env: DOCKER (default docker)"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

DOCKER=${DOCKER:-docker}

step() { echo "==> $*"; }

delete_jenkins() {
  step "deleting namespace jenkins"
  kubectl delete namespace jenkins --ignore-not-found
}

delete_rbac() {
  step "deleting the agents' Role in shop and ClusterRole for the namespace shop"
  kubectl -n shop delete rolebinding,role jenkins-deployer --ignore-not-found
  kubectl delete clusterrolebinding,clusterrole jenkins-deployer-namespace-shop --ignore-not-found
}

delete_git_server() {
  step "removing the git server container shop-git"
  "$DOCKER" rm -f shop-git >/dev/null 2>&1 || true
}

delete_jenkins
delete_rbac
delete_git_server
step "Jenkins removed"
