#!/bin/sh
# Builds the image of one or more services (default: all of them) with BuildKit's buildctl: the
# repo's Dockerfile, target `runtime`, and the build args of scripts/build-images.sh. No Docker daemon:
# it talks to the buildkitd of the agent pod. With --push the image is pushed as
# $REGISTRY/shop-<service>:$TAG; without, it is only built (and kept in BuildKit's cache, so that a
# second run with --push re-uses every step and only pushes).
# POSIX sh, not bash: the rootless BuildKit image (Alpine) has no bash. No pipelines, hence no pipefail.
set -eu

usage() {
  echo "usage: $0 [--push] [SERVICE...]   default: every entry of services.txt"
  echo "  env: REGISTRY (default kind-registry:5000), REGISTRY_INSECURE (true: plain HTTP; default true),"
  echo "       TAG (default: 12-char git sha), REVISION (default: git sha), BUILDKIT_HOST (buildctl's)"
}

cd "$(dirname "$0")/../.."
PUSH=false
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  --push) PUSH=true; shift ;;
  -*) usage; exit 2 ;;
esac
# services.txt: the first column of every line that is not blank or a comment.
SERVICES=${*:-$(awk '!/^[[:space:]]*(#|$)/ {print $1}' services.txt)}
REGISTRY=${REGISTRY:-kind-registry:5000}
REGISTRY_INSECURE=${REGISTRY_INSECURE:-true}
TAG=${TAG:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
REVISION=${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml)
SOURCE=$(sed -n 's/^repository = "\(.*\)"/\1/p' Cargo.toml)
COUNT=0

step() { echo "==> $*"; }

# buildkitd starts with the pod; wait (polling) until it answers.
wait_buildkitd() {
  step "waiting for buildkitd"
  i=0
  until buildctl debug workers >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -le 60 ] || { echo "error: buildkitd does not answer (BUILDKIT_HOST=${BUILDKIT_HOST:-unset})" >&2; exit 1; }
    sleep 1
  done
}

check_service() {
  [ -f "services/$1/Cargo.toml" ] || [ -f "$1/Cargo.toml" ] || { echo "error: unknown service: $1" >&2; usage; exit 2; }
}

build_one() {
  svc=$1 ref=$REGISTRY/shop-$1:$TAG
  if [ "$PUSH" = true ]; then
    step "build and push $ref"
    set -- --output "type=image,name=$ref,push=true,registry.insecure=$REGISTRY_INSECURE"
  else
    step "build $ref (kept in BuildKit's cache; --push pushes it)"
    set --
  fi
  buildctl build --progress=plain \
    --frontend dockerfile.v0 --local context=. --local dockerfile=. \
    --opt target=runtime --opt build-arg:SERVICE="$svc" --opt build-arg:VERSION="$VERSION" \
    --opt build-arg:RELEASE="$TAG" --opt build-arg:REVISION="$REVISION" --opt build-arg:SOURCE="$SOURCE" "$@"
  COUNT=$((COUNT + 1))
}

for svc in $SERVICES; do check_service "$svc"; done
wait_buildkitd
for svc in $SERVICES; do build_one "$svc"; done
step "done: $COUNT image(s) tagged $TAG, pushed: $PUSH"
