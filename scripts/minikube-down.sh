#!/usr/bin/env bash
# Deletes the minikube profile that scripts/minikube-up.sh created (cluster, images and volumes).
set -euo pipefail

usage() { echo "usage: $0   env: PROFILE (default shop)"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

PROFILE=${PROFILE:-shop}

echo "==> deleting minikube profile $PROFILE"
minikube delete -p "$PROFILE" # a no-op when the profile does not exist
echo "==> done"
