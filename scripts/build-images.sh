#!/bin/sh
# Builds the container image of every row of services.txt (or only the named ones) from the one
# Dockerfile, tagged ${REGISTRY:+$REGISTRY/}shop-NAME:TAG, and prints image, size and build time.
# The workspace is compiled once, into a builder image (one snapshot of the source for all images);
# each image then only copies its binary from it. TAG: the commit, or <commit>-dirty-<hash of the
# changes> (scripts/lib/common.sh image_tag): new content, new tag.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() {
  echo "usage: $0 [-h] [-r REGISTRY] [IMAGE...]   images: $(service_names | tr '\n' ' ')"
  echo "  env: REGISTRY (e.g. localhost:5001), TAG (default: from the git tree), DOCKER (docker), PROGRESS (auto|plain)"
}

REGISTRY=${REGISTRY:-}
while getopts "r:h" opt; do
  case $opt in
    r) REGISTRY=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

cd "$ROOT"
DOCKER=${DOCKER:-docker}
export DOCKER_BUILDKIT=1
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
TAG=${TAG:-$(image_tag)}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
SOURCE=$(sed -n 's/^repository = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
BUILDER=shop-builder:$TAG
ALL=$(service_names | tr '\n' ' ')
IMAGES=${*:-$ALL}
SUMMARY=$(mktemp "${TMPDIR:-/tmp}/shop-build.XXXXXX")
trap 'rm -f "$SUMMARY"' EXIT
trap 'exit 130' INT TERM HUP

check_images() {
  need "$DOCKER" git
  for name in $IMAGES; do
    case " $ALL " in *" $name "*) ;; *) usage >&2; die "unknown image: $name (not in services.txt)" ;; esac
  done
  COUNT=$(echo "$IMAGES" | wc -w | tr -d ' ')
}

summary_line() { awk -v i="$1" -v b="$2" -v s="$3" 'BEGIN { printf "%-45s %10s %6ss\n", i, b, s }' >>"$SUMMARY"; }

build_builder() {
  step "[0/$COUNT] compiling the workspace: $BUILDER (Dockerfile target builder)"
  start=$(now)
  "$DOCKER" build --progress="${PROGRESS:-auto}" --target builder -t "$BUILDER" .
  summary_line "(workspace build)" "" $(($(now) - start))
}

build_one() {
  ref=${REGISTRY:+$REGISTRY/}shop-$1:$TAG
  step "[$2/$COUNT] building $ref"
  start=$(now)
  "$DOCKER" build --progress="${PROGRESS:-auto}" --target runtime \
    --build-arg BUILDER="$BUILDER" --build-arg SERVICE="$1" --build-arg VERSION="$VERSION" --build-arg RELEASE="$TAG" \
    --build-arg REVISION="$REVISION" --build-arg SOURCE="$SOURCE" \
    -t "$ref" .
  secs=$(($(now) - start))
  size=$("$DOCKER" image inspect -f '{{.Size}}' "$ref")
  summary_line "$ref" "$(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1e6 }')" "$secs"
}

print_summary() {
  step "summary (tag $TAG, revision $REVISION)"
  printf '%-45s %10s %7s\n' IMAGE SIZE TIME
  cat "$SUMMARY"
}

check_images
total_start=$(now)
build_builder
n=0
for name in $IMAGES; do
  n=$((n + 1))
  build_one "$name" "$n"
done
"$DOCKER" image rm "$BUILDER" >/dev/null # its layers stay in the build cache
print_summary
echo "total: $(($(now) - total_start))s"
