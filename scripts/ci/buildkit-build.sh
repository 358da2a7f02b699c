#!/bin/sh
# Builds the images of services (default: every entry of services.txt) with BuildKit's buildctl: the
# repo's Dockerfile, target `runtime`, the build args of scripts/build-images.sh. No Docker daemon:
# it talks to the buildkitd of the Jenkins agent pod.
#   --warm   builds the `builder` stage only (every binary), first importing the registry cache
#            CACHE_REF (the compiled dependencies of an earlier build, from any build pod), and with
#            CACHE_EXPORT=true exporting it again (mode=max: every stage's layers). The images then
#            reuse that stage from BuildKit's own cache.
#   --push   pushes each image as $REGISTRY/shop-<service>:$TAG, with an SBOM and a provenance
#            attestation, and writes "service image@digest" lines to IMAGES_OUT (for
#            scripts/deploy.sh's IMAGES_FILE), the image named as the cluster's nodes pull it
#            (PULL_REGISTRY). A tag the registry already has is not built again: the same commit gives
#            the same digest, so deploying it again changes nothing.
#   neither  builds the images without pushing (kept in BuildKit's cache, so --push only pushes).
# POSIX sh, not bash: the rootless BuildKit image (Alpine) has no bash.
set -eu

usage() {
  echo "usage: $0 [--warm | --push] [SERVICE...]   default: every entry of services.txt"
  echo "  env: REGISTRY (default kind-registry:5000), REGISTRY_INSECURE (true: plain HTTP; default true),"
  echo "       PULL_REGISTRY (the registry as the nodes name it; default REGISTRY), TAG (default: 12-char"
  echo "       git sha), REVISION (default: git sha), IMAGES_OUT (default target/images.txt),"
  echo "       CACHE_REF (default REGISTRY/shop-buildcache:main), CACHE_EXPORT (true: export it; default"
  echo "       false), BUILDKIT_HOST (buildctl's)"
}

cd "$(dirname "$0")/../.."
MODE=build
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  --push) MODE=push; shift ;;
  --warm) MODE=warm; shift ;;
  -*) usage >&2; exit 2 ;;
esac
# services.txt: the first column of every line that is not blank or a comment.
SERVICES=${*:-$(awk '!/^[[:space:]]*(#|$)/ {print $1}' services.txt)}
REGISTRY=${REGISTRY:-kind-registry:5000}
REGISTRY_INSECURE=${REGISTRY_INSECURE:-true}
PULL_REGISTRY=${PULL_REGISTRY:-$REGISTRY}
TAG=${TAG:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
REVISION=${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
IMAGES_OUT=${IMAGES_OUT:-target/images.txt}
CACHE_REF=${CACHE_REF:-$REGISTRY/shop-buildcache:main}
CACHE_EXPORT=${CACHE_EXPORT:-false}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml)
SOURCE=$(sed -n 's/^repository = "\(.*\)"/\1/p' Cargo.toml)
if [ "$REGISTRY_INSECURE" = true ]; then SCHEME=http; else SCHEME=https; fi
COUNT=0
REUSED=0

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
  [ -f "services/$1/Cargo.toml" ] || [ -f "$1/Cargo.toml" ] || { echo "error: unknown service: $1" >&2; usage >&2; exit 2; }
}

# dockerfile ARGS...: buildctl build of the repo's Dockerfile with the build args every image shares.
# Every build names the registry cache it may use: after a full cache hit BuildKit keeps only lazy
# references to the cache's layers, which a later build can fetch only if it knows where from.
dockerfile() {
  buildctl build --progress=plain \
    --frontend dockerfile.v0 --local context=. --local dockerfile=. \
    --import-cache "type=registry,ref=$CACHE_REF,registry.insecure=$REGISTRY_INSECURE" \
    --opt build-arg:VERSION="$VERSION" --opt build-arg:RELEASE="$TAG" \
    --opt build-arg:REVISION="$REVISION" --opt build-arg:SOURCE="$SOURCE" "$@"
}

warm() {
  if [ "$CACHE_EXPORT" = true ]; then
    step "builder stage: cache from $CACHE_REF, exported back to it (mode=max)"
    # ignore-error: a registry that refuses the cache costs the next build time, not this build.
    set -- --export-cache "type=registry,ref=$CACHE_REF,registry.insecure=$REGISTRY_INSECURE,mode=max,ignore-error=true"
  else
    step "builder stage: cache from $CACHE_REF (not exported: CACHE_EXPORT=$CACHE_EXPORT)"
    set --
  fi
  dockerfile --opt target=builder "$@"
}

# digest_in_registry SERVICE: the digest of shop-SERVICE:TAG if the registry has it (else nothing).
# A registry that asks for credentials answers 401: then the image is simply built.
digest_in_registry() {
  url="$SCHEME://$REGISTRY/v2/shop-$1/manifests/$TAG"
  accept='application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.docker.distribution.manifest.v2+json'
  if command -v curl >/dev/null 2>&1; then
    headers=$(curl -fsSI -m 10 -H "Accept: $accept" "$url" 2>/dev/null) || return 0
  else # BusyBox wget (the BuildKit image): -S prints the answer's headers, --spider skips the body
    headers=$(wget -q -S --spider -T 10 --header "Accept: $accept" "$url" 2>&1) || return 0
  fi
  printf '%s\n' "$headers" | tr -d '\r' | sed -n 's/^ *[Dd]ocker-[Cc]ontent-[Dd]igest: *\(sha256:[0-9a-f]*\).*/\1/p' | head -n 1
}

build_one() {
  svc=$1 ref=$REGISTRY/shop-$1:$TAG
  set -- --opt target=runtime --opt build-arg:SERVICE="$svc"
  if [ "$MODE" = build ]; then
    step "build $ref (kept in BuildKit's cache; --push pushes it)"
    dockerfile "$@"
    COUNT=$((COUNT + 1))
    return
  fi
  digest=$(digest_in_registry "$svc")
  if [ -n "$digest" ]; then
    step "$ref is in the registry already ($digest): not built again"
    REUSED=$((REUSED + 1))
  else
    step "build and push $ref, with SBOM and provenance attestations"
    mkdir -p target/buildkit
    metadata=target/buildkit/$svc.json
    rm -f "$metadata"
    # The SBOM: BuildKit's default scanner (Syft) on the final image. Provenance mode=max records
    # the build's inputs: the Dockerfile, build args (no secrets in ours), the base images' digests.
    dockerfile "$@" \
      --opt attest:sbom= --opt attest:provenance=mode=max \
      --opt vcs:source="$SOURCE" --opt vcs:revision="$REVISION" \
      --output "type=image,name=$ref,push=true,registry.insecure=$REGISTRY_INSECURE" \
      --metadata-file "$metadata"
    digest=$(sed -n 's/.*"containerimage.digest": *"\(sha256:[0-9a-f]*\)".*/\1/p' "$metadata" | head -n 1)
    [ -n "$digest" ] || { echo "error: no containerimage.digest in $metadata" >&2; exit 1; }
    COUNT=$((COUNT + 1))
  fi
  echo "$svc $PULL_REGISTRY/shop-$svc@$digest" >>"$IMAGES_OUT"
}

for svc in $SERVICES; do check_service "$svc"; done
wait_buildkitd
if [ "$MODE" = warm ]; then
  warm
  step "done: the builder stage is in BuildKit's cache"
  exit 0
fi
if [ "$MODE" = push ]; then
  mkdir -p "$(dirname "$IMAGES_OUT")"
  : >"$IMAGES_OUT"
fi
for svc in $SERVICES; do build_one "$svc"; done
if [ "$MODE" = push ]; then
  step "done: $COUNT image(s) built and pushed, $REUSED already there, tag $TAG; digests in $IMAGES_OUT:"
  sed 's/^/    /' "$IMAGES_OUT"
else
  step "done: $COUNT image(s) built, tag $TAG"
fi
