#!/usr/bin/env bash
# Proves `cargo run -p xtask -- new-service`: in a copy of this working tree (tracked and untracked,
# non-ignored files), generates a stateful service `shipping` that orders calls and a web front end
# `backoffice` (--http, under /backoffice), then builds, lints and tests the copy, renders and
# validates every overlay, asks shipping for its gRPC health under `shop up` and loads backoffice's
# page, which reads the catalog through the gateway. Prints how many files the generator created and edited and how many hand edits it
# leaves. This repository is not changed; the copy is removed at the end.
#
# CARGO_TARGET_DIR defaults to target/new-service of this repository: ignored by git, kept between
# runs, and seeded once from target/debug, so that no dependency is compiled again; only the
# workspace's own crates are (the copy's files get fresh mtimes, so that no test binary built here,
# with this repository's paths compiled in, is reused there). It is not target/debug itself, so the
# copy's binaries (which include shipping) never replace those this repository's tests run.
set -euo pipefail

usage() {
  echo "usage: $0 [--keep] [--image]"
  echo "  --keep   leave the copy in \$TMPDIR to look at"
  echo "  --image  also build the new service's image with the one Dockerfile and check that the"
  echo "           container serves gRPC health (needs a Docker engine: .ci/run runs this after the"
  echo "           images step, which starts one)"
}
KEEP=false IMAGE=false
for arg in "$@"; do
  case $arg in
    --keep) KEEP=true ;;
    --image) IMAGE=true ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
CONTAINER=""
DOCKER=${DOCKER:-docker} # .ci/run: the engine's own client, with buildx
export DOCKER

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/new-service}"
K8S_VERSION=1.37.0
NAME=shipping
CALLER=orders
WEB=backoffice
WORK=$(mktemp -d "${TMPDIR:-/tmp}/new-service.XXXXXX")
COPY="$WORK/repo"
SHOP_PID=""

step() { printf '==> %s\n' "$*"; }

cleanup() {
  if [ -n "$SHOP_PID" ]; then kill "$SHOP_PID" 2>/dev/null || true; fi
  if [ -n "$CONTAINER" ]; then "$DOCKER" rm -f "$CONTAINER" >/dev/null 2>&1 || true; fi
  if $KEEP; then echo "the copy is in $COPY"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

copy_tree() {
  step "copy the working tree (git ls-files -co --exclude-standard) to $COPY"
  mkdir -p "$COPY"
  (cd "$ROOT" && git ls-files -co --exclude-standard -z |
    while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done |
    tar --null -T - -cf -) | tar -xmf - -C "$COPY"
}

seed_target_dir() {
  [ -d "$CARGO_TARGET_DIR/debug" ] && return
  [ -d "$ROOT/target/debug/deps" ] || return 0
  step "seed $CARGO_TARGET_DIR from target/debug (once: compiled dependencies)"
  mkdir -p "$CARGO_TARGET_DIR/debug"
  cp -Rp "$ROOT/target/debug/deps" "$ROOT/target/debug/build" "$ROOT/target/debug/.fingerprint" \
    "$CARGO_TARGET_DIR/debug/"
}

# The baseline is committed after xtask is built, so that git status shows the generator's changes only.
generate() {
  step "cargo build -p xtask, then commit the copy as the baseline"
  (cd "$COPY" && cargo build -q -p xtask)
  git -C "$COPY" init -q
  git -C "$COPY" add -A
  git -C "$COPY" -c user.name=ci -c user.email=ci@localhost -c commit.gpgsign=false \
    -c core.hooksPath=/dev/null commit -qm baseline
  step "cargo run -q -p xtask -- new-service $NAME --stateful --called-by $CALLER"
  (cd "$COPY" && cargo run -q -p xtask -- new-service "$NAME" --stateful --called-by "$CALLER") |
    tee "$WORK/generate.log"
  if [ ! -d "$COPY/services/$NAME" ] || [ -e "$ROOT/services/$NAME" ]; then
    echo "error: the generator did not write into the copy" >&2
    exit 1
  fi
  CREATED=$(git -C "$COPY" status --porcelain --untracked-files=all | grep -c '^??' || true)
  EDITED=$(git -C "$COPY" status --porcelain --untracked-files=all | grep -c '^ M' || true)
  HAND=$(sed -n 's/^Left to write by hand (\([0-9]*\)):$/\1/p' "$WORK/generate.log")
  [ -n "$HAND" ] || { echo "error: the generator did not say what is left by hand" >&2; exit 1; }
  # The web front end after the counts, which are those of the gRPC service (docs/new-service.md).
  step "cargo run -q -p xtask -- new-service $WEB --http"
  (cd "$COPY" && cargo run -q -p xtask -- new-service "$WEB" --http) | tee -a "$WORK/generate.log"
  [ -d "$COPY/services/$WEB" ] || { echo "error: the generator did not write $WEB" >&2; exit 1; }
}

check_rust() {
  cd "$COPY"
  step "cargo build --workspace --all-targets"
  cargo build --workspace --all-targets
  step "cargo fmt --check -p $NAME -p $CALLER -p $WEB"
  cargo fmt --check -p "$NAME" -p "$CALLER" -p "$WEB"
  step "cargo clippy -p $NAME -p $CALLER -p $WEB --all-targets -- -D warnings"
  cargo clippy -p "$NAME" -p "$CALLER" -p "$WEB" --all-targets -- -D warnings
  # Its storage tests run on SQLite and, like every storage test, on PostgreSQL when there is one:
  # the server scripts/test.sh started (CI requires it), else SQLite only.
  if [[ -z ${TEST_POSTGRES_URL:-} ]] && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -t 5; then
    export TEST_POSTGRES_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres
  fi
  local databases="SQLite only"
  [[ -z ${TEST_POSTGRES_URL:-} ]] || databases="SQLite and PostgreSQL"
  step "cargo test -p $NAME ($databases), cargo test -p $WEB"
  cargo test -p "$NAME"
  cargo test -p "$WEB"
  step "cargo test -p shop --test manifests --test configuration (every overlay and the docs, with $NAME, against the code)"
  cargo test -p shop --test manifests --test configuration
  cd "$ROOT"
}

check_manifests() {
  local overlay
  for overlay in "$COPY"/k8s/overlays/*/; do
    step "kubectl kustomize k8s/overlays/$(basename "$overlay") | kubernetes-validate -k $K8S_VERSION --strict"
    kubectl kustomize "$overlay" >"$WORK/rendered.yaml"
    for name in "$NAME" "$WEB"; do
      grep -q "name: $name\$" "$WORK/rendered.yaml" || { echo "error: $name is not in the render" >&2; exit 1; }
    done
    kubernetes-validate -k "$K8S_VERSION" --strict --quiet "$WORK/rendered.yaml"
  done
  if command -v yamllint >/dev/null; then
    step "yamllint --strict k8s/"
    yamllint -c "$COPY/k8s/.yamllint.yaml" --strict "$COPY/k8s"
  fi
}

# Waits on the line `shop up` prints once every service is ready, never on a fixed sleep.
check_shop_up() {
  local shop="$CARGO_TARGET_DIR/debug/shop" waited=0 addr
  step "shop up --ephemeral-ports, then shop run $NAME healthcheck at the address it printed"
  "$shop" up --ephemeral-ports --data-dir "$WORK/data" >"$WORK/up.log" 2>&1 &
  SHOP_PID=$!
  until grep -q '^gateway listening on' "$WORK/up.log"; do
    kill -0 "$SHOP_PID" 2>/dev/null || { cat "$WORK/up.log" >&2; echo "error: shop up exited" >&2; exit 1; }
    [ "$waited" -lt 600 ] || { cat "$WORK/up.log" >&2; echo "error: shop up not ready in 60 s" >&2; exit 1; }
    sleep 0.1
    waited=$((waited + 1))
  done
  addr=$(sed -n "s/^  $NAME  *gRPC \([0-9.:]*\) .*/\1/p" "$WORK/up.log")
  [ -n "$addr" ] || { cat "$WORK/up.log" >&2; echo "error: shop up printed no address for $NAME" >&2; exit 1; }
  echo "    $NAME gRPC at $addr"
  LISTEN_ADDR="$addr" "$shop" run "$NAME" healthcheck
  echo "    $NAME answers grpc.health.v1: SERVING"
  addr=$(sed -n "s|^  $WEB  *http://\([0-9.:]*\) .*|\1|p" "$WORK/up.log")
  [ -n "$addr" ] || { cat "$WORK/up.log" >&2; echo "error: shop up printed no address for $WEB" >&2; exit 1; }
  curl -fsS --connect-timeout 2 --max-time 10 "http://$addr/" >"$WORK/web.html" ||
    { cat "$WORK/up.log" >&2; echo "error: $WEB's page did not answer 200" >&2; exit 1; }
  grep -q 'The shop lists 28 products' "$WORK/web.html" ||
    { cat "$WORK/web.html" >&2; echo "error: $WEB's page does not show the catalog" >&2; exit 1; }
  echo "    $WEB's page at http://$addr/ shows the catalog, read through the gateway"
  kill -TERM "$SHOP_PID"
  wait "$SHOP_PID" || { cat "$WORK/up.log" >&2; echo "error: shop up did not stop cleanly" >&2; exit 1; }
  SHOP_PID=""
}

# The user's image script builds the new service from services.txt with the one Dockerfile (which
# picks up every crate under services/); the container must answer grpc.health.v1 as SERVING,
# probed with the copy's `shop run NAME healthcheck`.
check_image() {
  local image="shop-$NAME:new-service-proof" port deadline
  step "scripts/build-images.sh $NAME (the copy; TAG=new-service-proof)"
  # BuildKit's plain progress without the lines of each command's own output (cargo's, mostly).
  (cd "$COPY" && TAG=new-service-proof PROGRESS=plain scripts/build-images.sh "$NAME") 2>&1 |
    grep -vE '^#[0-9]+ [0-9.]+ '

  "$DOCKER" image inspect "$image" >/dev/null || { echo "error: the image of $NAME was not built" >&2; exit 1; }
  step "docker run $image, then shop run $NAME healthcheck against it"
  # Named first, so that cleanup removes it even when it was created but did not start.
  CONTAINER="new-service-proof-$$"
  "$DOCKER" run -d --name "$CONTAINER" --read-only --tmpfs /data:uid=65532,gid=65532 \
    -p 127.0.0.1::"$PORT" "$image" >/dev/null
  port=$("$DOCKER" port "$CONTAINER" "$PORT/tcp" | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -n 1)
  [ -n "$port" ] || { echo "error: no published port for $NAME" >&2; exit 1; }
  deadline=$((SECONDS + 30))
  until LISTEN_ADDR="127.0.0.1:$port" "$CARGO_TARGET_DIR/debug/shop" run "$NAME" healthcheck 2>/dev/null; do
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$CONTAINER")" = true ] ||
      { "$DOCKER" logs "$CONTAINER" >&2; echo "error: the $NAME container exited" >&2; exit 1; }
    [ "$SECONDS" -lt "$deadline" ] || { "$DOCKER" logs "$CONTAINER" >&2; echo "error: $NAME not serving in 30 s" >&2; exit 1; }
    sleep 0.1
  done
  echo "    the $NAME container answers grpc.health.v1: SERVING"
  "$DOCKER" rm -f "$CONTAINER" >/dev/null
  CONTAINER=""
}

[ ! -e "$ROOT/services/$NAME" ] || { echo "error: $ROOT already has services/$NAME" >&2; exit 1; }
copy_tree
seed_target_dir
generate
check_rust
check_manifests
check_shop_up
if $IMAGE; then
  PORT=$(sed -n "s/^$NAME  *[a-z]*  *\([0-9]*\) .*/\1/p" "$COPY/services.txt")
  check_image
fi
step "new-service OK: created $CREATED, edited $EDITED, hand edits left $HAND"
