#!/usr/bin/env bash
# Builds the container image of every service (or only the named ones) from the one Dockerfile,
# tagged ${REGISTRY:+$REGISTRY/}shop-<service>:<git sha>, and prints image, size and build time.
# The workspace is compiled once, into a builder image (one snapshot of the source for all images);
# each service's image then only copies its binary from it.
set -euo pipefail

SERVICES=(catalog cart orders payments gateway)
# Images of tools that are not services of the shop (they serve nothing); built and pushed alike.
TOOLS=(loadgen)
IMAGES=("${SERVICES[@]}" "${TOOLS[@]}")

usage() {
  echo "usage: $0 [-r REGISTRY] [IMAGE...]   images: ${IMAGES[*]}"
  echo "  env: REGISTRY (e.g. localhost:5001), TAG (default: git sha), DOCKER, PROGRESS (auto|plain)"
}

cd "$(dirname "$0")/.."
REGISTRY=${REGISTRY:-}
while getopts "r:h" opt; do
  case $opt in
    r) REGISTRY=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -gt 0 ]] && IMAGES=("$@")

# Debian's client: the newer one first on PATH on our machines refuses BuildKit without buildx.
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
export DOCKER_BUILDKIT=1
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
TAG=${TAG:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
SOURCE=$(sed -n 's/^repository = "\(.*\)"/\1/p' Cargo.toml | head -n1)
SUMMARY=()

BUILDER=shop-builder:$TAG

image_ref() { echo "${REGISTRY:+$REGISTRY/}shop-$1:$TAG"; }

check_services() {
  local svc
  for svc in "${IMAGES[@]}"; do
    [[ -f services/$svc/Cargo.toml || -f $svc/Cargo.toml ]] || { echo "unknown service: $svc" >&2; usage; exit 2; }
  done
}

build_builder() {
  local start
  echo "==> [0/${#IMAGES[@]}] compiling the workspace: $BUILDER (Dockerfile target builder)"
  start=$(date +%s)
  "$DOCKER" build --progress="${PROGRESS:-auto}" --target builder -t "$BUILDER" .
  SUMMARY+=("$(printf '%-45s %10s %6ss' "(workspace build)" "" "$(($(date +%s) - start))")")
}

build_one() {
  local svc=$1 ref start secs size
  ref=$(image_ref "$svc")
  echo "==> [${#SUMMARY[@]}/${#IMAGES[@]}] building $ref"
  start=$(date +%s)
  "$DOCKER" build --progress="${PROGRESS:-auto}" --target runtime \
    --build-arg BUILDER="$BUILDER" --build-arg SERVICE="$svc" --build-arg VERSION="$VERSION" \
    --build-arg REVISION="$REVISION" --build-arg SOURCE="$SOURCE" \
    -t "$ref" .
  secs=$(($(date +%s) - start))
  size=$("$DOCKER" image inspect -f '{{.Size}}' "$ref")
  SUMMARY+=("$(printf '%-45s %7.1f MB %6ss' "$ref" "$(awk -v b="$size" 'BEGIN {print b / 1e6}')" "$secs")")
}

print_summary() {
  echo "==> summary (tag $TAG, revision $REVISION)"
  printf '%-45s %10s %7s\n' IMAGE SIZE TIME
  printf '%s\n' "${SUMMARY[@]}"
}

check_services
total_start=$(date +%s)
build_builder
for svc in "${IMAGES[@]}"; do build_one "$svc"; done
"$DOCKER" image rm "$BUILDER" >/dev/null # its layers stay in the build cache
print_summary
echo "total: $(($(date +%s) - total_start))s"
