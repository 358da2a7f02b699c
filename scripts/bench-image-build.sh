#!/usr/bin/env bash
# Measures the image build the way the Jenkins pipeline meets it (docs/containers.md, "Cold and warm
# builds"), with a real BuildKit (buildx) and a real registry, and prints a table:
#   cold            no build cache at all (a new build pod, the very first time), the cache exported
#                   to a local directory (BuildKit's local cache, mode=max)
#   export          the same cache exported to the registry (what main's build does: mode=max)
#   nothing changed / one service changed (the builder's own cache warm: a laptop, a persistent daemon)
#   images          after that change: the one affected image vs all of them
#   from cache      no local cache, everything imported from the local cache directory, then from the
#                   registry cache: a new build pod after main exported its cache
# Then it builds and pushes one image the way the pipeline's Push stage does (SBOM and provenance
# attestations, build args, by digest) and checks the attestations: the SBOM lists the crates of
# Cargo.lock (cargo auditable), the provenance names the commit and the base images.
# It works on a throwaway clone of HEAD.
# Needs: `docker buildx` with a builder that exports caches and attestations (Docker Desktop, or Docker
# Engine with the containerd image store; on CI `eval "$(scripts/ci/buildx-engine.sh)"` starts one),
# the base images, python3, and a registry at REGISTRY (default: on Debian, starts Debian's
# docker-registry on localhost:5000; elsewhere `docker run -d -p 5001:5000 registry:3` and
# REGISTRY=localhost:5001). It empties the builder's whole build cache (every project's) between
# runs, so it asks for BENCH_PRUNE=1.
set -euo pipefail

usage() {
  echo "usage: $0"
  echo "  env: DOCKER (default docker; may carry options: \"docker -H unix:///...\"), REGISTRY (default"
  echo "       localhost:5000), SBOM_GENERATOR (default: BuildKit's, docker/buildkit-syft-scanner),"
  echo "       BUILD_NETWORK (default: the builder's; host where the builder has no NAT, as on CI),"
  echo "       BENCH_PRUNE=1 (required: the builder's whole build cache is emptied between runs)"
}
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
read -r -a DOCKER_CMD <<<"${DOCKER:-docker}"
REGISTRY=${REGISTRY:-localhost:5000}
# A tag of its own per run: a registry that outlives the run must not serve an older run's cache.
CACHE=$REGISTRY/shop-bench-cache:$(date +%s)
BUILD_NETWORK=${BUILD_NETWORK:-default}
WORK=$(mktemp -d)
LOCAL_CACHE=$WORK/cache
RESULTS=$WORK/results
REGISTRY_PID=
trap '[[ -z $REGISTRY_PID ]] || kill "$REGISTRY_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

step() { printf '\n==> %s\n' "$*"; }
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }
docker() { command "${DOCKER_CMD[@]}" "$@"; }

registry() {
  if curl -fsS -m 5 "http://$REGISTRY/v2/" >/dev/null 2>&1; then return; fi
  [[ $REGISTRY == localhost:5000 ]] || { echo "error: no registry answers at $REGISTRY" >&2; exit 1; }
  step "starting Debian's docker-registry on localhost:5000"
  command -v docker-registry >/dev/null || command -v apt-get >/dev/null || {
    echo "error: no registry answers at $REGISTRY: start one (docker run -d -p 5001:5000 registry:3) and" >&2
    echo "       set REGISTRY=localhost:5001" >&2
    exit 1
  }
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

preflight() {
  [[ ${BENCH_PRUNE:-} == 1 ]] || { echo "error: set BENCH_PRUNE=1: the builder's whole build cache is emptied between runs" >&2; exit 2; }
  docker buildx version >/dev/null 2>&1 || { echo "error: needs docker buildx (see the header of $0)" >&2; exit 1; }
  # The docker driver without the containerd image store refuses cache exports: say so before a
  # 15-minute build does.
  mkdir -p "$WORK/probe" && printf 'FROM scratch\nCOPY probe /\n' >"$WORK/probe/Dockerfile" && : >"$WORK/probe/probe"
  docker buildx build --quiet --network "$BUILD_NETWORK" --cache-to "type=local,dest=$WORK/probe-cache" "$WORK/probe" \
    >/dev/null 2>"$WORK/probe.log" || {
    cat "$WORK/probe.log" >&2
    echo "error: this builder cannot export a cache: enable the containerd image store, or use" >&2
    echo "       'docker buildx create --use --driver-opt network=host' (docker-container driver; host" >&2
    echo "       network so that it reaches the registry on localhost)" >&2
    exit 1
  }
}

# timed LABEL COMMAND...: runs COMMAND, prints and returns its duration in seconds (in $SECS).
timed() {
  local label=$1 start
  shift
  step "$label"
  start=$(date +%s)
  # Progress: the steps as they finish and the workspace's crates as they compile; all in the log.
  "$@" 2>&1 | tee "$WORK/build.log" | awk '
    /Compiling (cart|catalog|orders|payments|gateway|storefront|loadgen|platform|shop-proto) / { print; fflush(); next }
    /Compiling / { if (++crates % 50 == 0) { print "    ... " crates " crates compiled"; fflush() } next }
    /^#[0-9]+ (DONE|CACHED)|exporting cache|importing cache/ { print; fflush() }' ||
    { tail -n 30 "$WORK/build.log"; echo "error: the build failed" >&2; exit 1; }
  SECS=$(($(date +%s) - start))
  echo "    $label: ${SECS} s"
}

build() { docker buildx build --progress=plain --network "$BUILD_NETWORK" "$@" "$WORK/repo"; }
builder() { build --target builder --output type=cacheonly "$@"; }

forget_cache() { docker buildx prune -af >/dev/null; }

step "a clone of HEAD in $WORK/repo"
git clone -q "$ROOT" "$WORK/repo"
# What the pipeline passes as vcs:source; buildx reads it from the clone's origin.
git -C "$WORK/repo" remote set-url origin https://example.invalid/shop
MEASURED=$(git -C "$WORK/repo" rev-parse --short=12 HEAD)
preflight
registry

forget_cache
timed "cold: no build cache, the cache exported to $LOCAL_CACHE (mode=max)" \
  builder --cache-to "type=local,dest=$LOCAL_CACHE,mode=max"
row "cold: empty build cache (a new build pod, first time), exported to a local cache" "$SECS s" \
  "cargo-chef and cargo-auditable, dependencies, workspace; the cache written (mode=max)"

timed "export the same cache to the registry, $CACHE (mode=max)" \
  builder --cache-to "type=registry,ref=$CACHE,mode=max,registry.insecure=true,ignore-error=false"
row "the same build exported to the registry cache (main's build)" "$SECS s" "every step cached; the layers pushed"

timed "nothing changed, builder cache warm" builder
row "nothing changed" "$SECS s" "every step cached"

echo "// a change" >>"$WORK/repo/services/cart/src/lib.rs"
git -C "$WORK/repo" -c user.name=bench -c user.email=bench@example.invalid commit -qam "a change to cart"
timed "one service changed (services/cart/src/lib.rs), builder cache warm" builder
row "one service changed, cache warm (a laptop, a persistent daemon)" "$SECS s" "cart recompiles and relinks"
build --target builder --load -t shop-bench-builder >"$WORK/build.log" 2>&1 ||
  { tail -n 30 "$WORK/build.log"; echo "error: loading the builder stage failed" >&2; exit 1; }

step "images after that change: the affected one vs all"
affected=$(cd "$WORK/repo" && CARGO_TARGET_DIR="$ROOT/target" cargo run --quiet --locked -p xtask -- affected --base HEAD~1 2>"$WORK/affected.log" | tr '\n' ' ') ||
  { cat "$WORK/affected.log" >&2; echo "error: xtask affected failed" >&2; exit 1; }
echo "    xtask affected: $affected"
all=$(awk '!/^[[:space:]]*(#|$)/ {print $1}' "$WORK/repo/services.txt" | tr '\n' ' ')
image() {
  build --target runtime --build-arg BUILDER=shop-bench-builder --build-arg SERVICE="$1" --load -t "shop-bench-$1" \
    >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log"; echo "error: the image of $1 failed" >&2; exit 1; }
}
start=$(date +%s)
for svc in $affected; do image "$svc"; done
one=$(($(date +%s) - start))
start=$(date +%s)
for svc in $all; do image "$svc"; done
every=$(($(date +%s) - start))
row "images built for the change: affected ($affected)" "$one s" "then pushed and rolled out: $(wc -w <<<"$affected" | tr -d ' ') Deployment(s)"
row "images built for the change: all ($(wc -w <<<"$all" | tr -d " "))" "$every s" "then pushed and rolled out: every Deployment"
for svc in $all shop-bench-builder; do docker image rm -f "shop-bench-${svc#shop-bench-}" >/dev/null 2>&1 || true; done


forget_cache
timed "a new build pod: no local cache, everything from the local cache $LOCAL_CACHE" \
  builder --cache-from "type=local,src=$LOCAL_CACHE"
row "a new build pod, the cache imported from the local cache directory" "$SECS s" "the dependencies' layers are read back; the workspace (cart changed) compiles: cache mounts do not travel"

forget_cache
timed "a new build pod: no local cache, everything from the registry cache $CACHE" \
  builder --cache-from "type=registry,ref=$CACHE,registry.insecure=true"
row "a new build pod, the cache imported from the registry (the pipeline's setting)" "$SECS s" "the dependencies' layers are pulled; the workspace compiles"

step "one image the way the Push stage builds it: SBOM and provenance attestations, pushed by digest"
REVISION=$(git -C "$WORK/repo" rev-parse HEAD)
ref=$REGISTRY/shop-bench-cart:${REVISION:0:12}
sbom=type=sbom${SBOM_GENERATOR:+,generator=$SBOM_GENERATOR}
build --target runtime --build-arg SERVICE=cart --build-arg VERSION=bench --build-arg RELEASE=bench \
  --build-arg REVISION="$REVISION" --build-arg SOURCE=https://example.invalid/shop \
  --cache-from "type=registry,ref=$CACHE,registry.insecure=true" \
  --attest "$sbom" --attest type=provenance,mode=max \
  --output "type=image,name=$ref,push=true,registry.insecure=true" --metadata-file "$WORK/metadata.json" \
  >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log"; echo "error: the attested build failed" >&2; exit 1; }
digest=$(sed -n 's/.*"containerimage.digest": *"\(sha256:[0-9a-f]*\)".*/\1/p' "$WORK/metadata.json" | head -n 1)
[[ -n $digest ]] || { echo "error: no containerimage.digest in the metadata file" >&2; exit 1; }
for what in SBOM Provenance; do
  docker buildx imagetools inspect "$ref@$digest" --format "{{json .$what}}" >"$WORK/$what.json" ||
    { echo "error: could not read the $what of $ref@$digest from the registry" >&2; exit 1; }
done
attested=$(python3 "$ROOT/scripts/ci/check-attestations.py" --lock "$WORK/repo/Cargo.lock" --revision "$REVISION" \
  --sbom "$WORK/SBOM.json" --provenance "$WORK/Provenance.json")
echo "$attested"
row "attestations of $ref@${digest:7:12}" "-" "$attested"

step "results ($(docker info -f '{{.NCPU}}' 2>/dev/null || echo '?') cores, Docker $(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'), $(docker buildx version | cut -d' ' -f1-2), commit $MEASURED)"
printf '| build | time | what happens |\n|---|---|---|\n'
while IFS=$'\t' read -r what time note; do printf '| %s | %s | %s |\n' "$what" "$time" "$note"; done <"$RESULTS"
