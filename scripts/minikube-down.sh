#!/bin/sh
# Deletes the minikube profile that scripts/minikube-up.sh created (cluster, images and volumes), and
# the kubectl port-forward it may have left running.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() { echo "usage: $0 [-h]   env: PROFILE (default shop)"; }
case ${1:-} in
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

PROFILE=${PROFILE:-shop}

stop_forward() {
  step "stopping the port-forward of scripts/minikube-up.sh, if any"
  stop_port_forward "${TMPDIR:-/tmp}/shop-minikube-$PROFILE-port-forward.pid"
}

delete_profile() {
  step "deleting minikube profile $PROFILE"
  minikube delete -p "$PROFILE" # a no-op when the profile does not exist
}

need minikube
stop_forward
delete_profile
step "done"
