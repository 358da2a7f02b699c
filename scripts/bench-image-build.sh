#!/usr/bin/env bash
# Measures the image build the way the Jenkins pipeline meets it (docs/containers.md, "Cold and warm
# builds"), with a real Docker engine and a real registry, and prints a table:
#   cold          no build cache at all (a new build pod, the very first time)
#   one service   one source file of cart changed, the builder's own cache warm (a laptop, a
#                 persistent daemon): only that crate recompiles
#   images        after that change: the one affected image vs all of them
#   from registry no local cache, the compiled dependencies imported from a registry cache (a new
#                 build pod after main exported its cache): only the workspace's crates compile
# It works on a throwaway clone of HEAD. The registry cache here is BuildKit's inline cache (what
# Docker's built-in BuildKit exports without buildx): the `deps` stage pushed with its cache
# metadata; the pipeline's buildctl exports the same layers with --export-cache mode=max.
# Needs: a running Docker engine with BuildKit and the base images (CI: scripts/ci/docker-standins.sh);
# a registry at REGISTRY (default: starts Debian's docker-registry on localhost:5000 if none answers).
set -euo pipefail

usage() { echo "usage: $0   env: DOCKER (default docker), REGISTRY (default localhost:5000)"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DOCKER=${DOCKER:-docker}
REGISTRY=${REGISTRY:-localhost:5000}
CACHE=$REGISTRY/shop-buildcache:deps
WORK=$(mktemp -d)
RESULTS=$WORK/results
REGISTRY_PID=
trap '[[ -z $REGISTRY_PID ]] || kill "$REGISTRY_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
export DOCKER_BUILDKIT=1

step() { printf '\n==> %s\n' "$*"; }
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }

registry() {
  if curl -fsS -m 5 "http://$REGISTRY/v2/" >/dev/null 2>&1; then return; fi
  [[ $REGISTRY == localhost:5000 ]] || { echo "error: no registry answers at $REGISTRY" >&2; exit 1; }
  step "starting Debian's docker-registry on localhost:5000"
  command -v docker-registry >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
  }
  # Debian's own config asks for passwords: a plain one, storage in a temp folder, stopped at the end.
  mkdir -p "$WORK/registry"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:5000\n' \
    "$WORK/registry" >"$WORK/registry.yml"
  docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 30); do curl -fsS -m 2 "http://$REGISTRY/v2/" >/dev/null 2>&1 && return; sleep 1; done
  echo "error: the registry did not start" >&2
  exit 1
}

# timed LABEL COMMAND...: runs COMMAND, prints and returns its duration in seconds (in $SECS).
timed() {
  local label=$1 start
  shift
  step "$label"
  start=$(date +%s)
  # Progress: the steps as they finish and the workspace's crates as they compile; all in the log.
  "$@" >"$WORK/build.log" 2>&1 &
  local pid=$!
  tail -n +1 -f "$WORK/build.log" --pid "$pid" |
    grep --line-buffered -E '^#[0-9]+ (DONE|CACHED)|Compiling (cart|catalog|orders|payments|gateway|storefront|loadgen|platform|shop-proto) ' || true
  wait "$pid" || { tail -n 30 "$WORK/build.log"; echo "error: the build failed" >&2; exit 1; }
  SECS=$(($(date +%s) - start))
  echo "    $label: ${SECS} s"
}

build() { "$DOCKER" build --progress=plain "$@" "$WORK/repo"; }

forget_cache() {
  "$DOCKER" builder prune -af >/dev/null
  "$DOCKER" image rm -f "$CACHE" shop-bench-builder >/dev/null 2>&1 || true
}

step "a clone of HEAD in $WORK/repo"
git clone -q "$ROOT" "$WORK/repo"
registry

forget_cache
timed "cold: no build cache" build --target builder -t shop-bench-builder
row "cold: empty build cache (a new build pod, first time)" "$SECS s" "cargo-chef and cargo-auditable, dependencies, workspace"

timed "nothing changed, builder cache warm" build --target builder -t shop-bench-builder
row "nothing changed" "$SECS s" "every step cached"

echo "// a change" >>"$WORK/repo/services/cart/src/lib.rs"
git -C "$WORK/repo" -c user.name=bench -c user.email=bench@example.invalid commit -qam "a change to cart"
timed "one service changed (services/cart/src/lib.rs), builder cache warm" \
  build --target builder -t shop-bench-builder
row "one service changed, cache warm (a laptop, a persistent daemon)" "$SECS s" "cart recompiles and relinks"

step "images after that change: the affected one vs all"
affected=$(cd "$WORK/repo" && CARGO_TARGET_DIR="$ROOT/target" cargo run --quiet --locked -p xtask -- affected --base HEAD~1 2>/dev/null | tr '\n' ' ')
echo "    xtask affected: $affected"
all=$(awk '!/^[[:space:]]*(#|$)/ {print $1}' "$WORK/repo/services.txt" | tr '\n' ' ')
image() { build --target runtime --build-arg BUILDER=shop-bench-builder --build-arg SERVICE="$1" -t "shop-bench-$1" >/dev/null 2>&1; }
start=$(date +%s)
for svc in $affected; do image "$svc"; done
one=$(($(date +%s) - start))
start=$(date +%s)
for svc in $all; do image "$svc"; done
every=$(($(date +%s) - start))
row "images built for the change: affected ($affected)" "$one s" "then pushed and rolled out: $(wc -w <<<"$affected") Deployment(s)"
row "images built for the change: all ($(wc -w <<<"$all"))" "$every s" "then pushed and rolled out: every Deployment"
for svc in $all; do "$DOCKER" image rm -f "shop-bench-$svc" >/dev/null 2>&1 || true; done

step "export the dependencies' stage with its cache metadata to $CACHE"
build --target deps --build-arg BUILDKIT_INLINE_CACHE=1 -t "$CACHE" >/dev/null 2>&1
"$DOCKER" push -q "$CACHE" >/dev/null

forget_cache
timed "from the registry cache: no local cache, the deps layers from $CACHE" \
  build --target builder --cache-from "$CACHE" -t shop-bench-builder
row "a new build pod, dependencies from the registry cache" "$SECS s" "the dependencies' layers are pulled; the workspace compiles"

step "results ($(nproc) cores, $("$DOCKER" version -f '{{.Server.Version}}' 2>/dev/null || echo '?'), commit $(git -C "$ROOT" rev-parse --short=12 HEAD))"
printf '| build | time | what happens |\n|---|---|---|\n'
while IFS=$'\t' read -r what time note; do printf '| %s | %s | %s |\n' "$what" "$time" "$note"; done <"$RESULTS"
