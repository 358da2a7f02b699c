#!/bin/sh
# The services of services.txt (not tools) that have no Deployment in the namespace shop yet, one per
# line: a first deploy, or a new service. The pipeline builds them whatever the commit changed, since
# scripts/deploy.sh keeps every service it is not given on the image it runs, and these run none.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() { echo "usage: $0   env: KUBECTL (default kubectl)"; }
case ${1:-} in
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

KUBECTL=${KUBECTL:-kubectl}
need "$KUBECTL"
while read -r name kind _rest; do
  case $name in '' | '#'*) continue ;; esac
  [ "$kind" != tool ] || continue
  [ -n "$(deployed_image "$name")" ] || printf '%s\n' "$name"
done <"$ROOT/services.txt"
