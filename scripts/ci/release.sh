#!/bin/sh
# The commit of the release that runs in the namespace shop, kept in the ConfigMap shop-release:
#   release.sh get            prints it (nothing if no release was recorded, or it cannot be read)
#   release.sh set REVISION   records REVISION (after a deploy passed its smoke test)
# The Jenkins pipeline plans a build of main from it: the images to build are those that changed
# since what runs, whatever happened in between (builds without deploy, failed deploys, rollbacks).
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() { echo "usage: $0 get | set REVISION   env: KUBECTL (default kubectl)"; }
KUBECTL=${KUBECTL:-kubectl}
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  get) [ $# -eq 1 ] || { usage >&2; exit 2; } ;;
  set) if [ $# -ne 2 ] || [ -z "$2" ]; then usage >&2; exit 2; fi ;;
  *) usage >&2; exit 2 ;;
esac
need "$KUBECTL"

if [ "$1" = get ]; then
  if ! out=$("$KUBECTL" -n "$NAMESPACE" get configmap shop-release --request-timeout=30s \
    -o 'jsonpath={.data.revision}' 2>&1); then
    case $out in
      *NotFound* | *"not found"*) warn "no release recorded in $NAMESPACE yet: every image is built" ;;
      *) warn "cannot read the release record ($out): every image is built" ;;
    esac
    exit 0
  fi
  printf '%s\n' "$out"
else
  step "recording release $2 (ConfigMap shop-release in $NAMESPACE)"
  "$KUBECTL" -n "$NAMESPACE" create configmap shop-release --from-literal=revision="$2" \
    --dry-run=client -o yaml | "$KUBECTL" apply --request-timeout=60s -f -
fi
