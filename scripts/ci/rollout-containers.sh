#!/usr/bin/env bash
# Zero downtime with real containers: the shop's images on a docker network, two replicas each of
# catalog and cart behind a shared network alias (Docker's DNS answers with every container of an
# alias, like a Kubernetes headless Service), the load generator image playing shoppers, and each
# catalog and cart replica replaced one at a time with `docker stop` under load. Run once with
# graceful shutdown (no request may fail) and once without it (the negative control: some must).
# Usage: scripts/ci/rollout-containers.sh        env: TAG (image tag, default the git commit)
set -euo pipefail

usage() { echo "usage: $0   (env: TAG; the images must exist: scripts/build-images.sh)"; }
[[ $# -eq 0 ]] || { usage; exit 2; }
cd "$(dirname "$0")/../.."

DOCKER=${DOCKER:-/usr/bin/docker}
TAG=${TAG:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
NET=shop-rollout-$$
PREFIX=shop-rollout-$$
LOAD_SECONDS=45
RUN=0

step() { echo; echo "==> $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
  "$DOCKER" ps -aq --filter "name=$PREFIX-" | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
  "$DOCKER" volume ls -q --filter "name=$PREFIX-" | xargs -r "$DOCKER" volume rm >/dev/null 2>&1 || true
  "$DOCKER" network rm "$NET" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# service NAME SERVICE [docker run options...]: one replica; replicas of a service share its data
# volume (one SQLite database, like one database server) and its network alias.
service() {
  local name=$1 svc=$2
  shift 2
  "$DOCKER" run -d --name "$PREFIX-$name" --network "$NET" --network-alias "$svc" \
    --read-only --tmpfs /tmp -v "$PREFIX-$RUN-$svc:/data" \
    -e GRPC_DISCOVERY_INTERVAL_MS=300 -e SHUTDOWN_DELAY_SECONDS=2 -e SHUTDOWN_DRAIN_SECONDS=10 \
    -e GRACEFUL_SHUTDOWN="$GRACEFUL" -e RUST_LOG=warn \
    -e CATALOG_URL=http://catalog:50051 -e CART_URL=http://cart:50052 \
    -e ORDERS_URL=http://orders:50053 -e PAYMENTS_URL=http://payments:50054 \
    -e JWT_SECRET=rollout-test-secret-rollout-test-secret-01 \
    "$@" "shop-$svc:$TAG" >/dev/null
}

wait_healthy() {
  local name=$1 _
  for _ in $(seq 1 150); do
    "$DOCKER" exec "$PREFIX-$name" /usr/local/bin/service healthcheck >/dev/null 2>&1 && return
    sleep 0.2
  done
  "$DOCKER" logs --tail 20 "$PREFIX-$name" >&2 || true
  fail "$name never became healthy"
}

start_shop() {
  step "run $RUN (GRACEFUL_SHUTDOWN=$GRACEFUL): network $NET, two replicas of catalog and cart"
  "$DOCKER" network create "$NET" >/dev/null
  # The first replica of a service migrates its database; the second starts once it is ready.
  service catalog-1 catalog && wait_healthy catalog-1
  service catalog-2 catalog
  service cart-1 cart && wait_healthy cart-1
  service cart-2 cart
  service payments payments
  service orders orders
  service gateway gateway -p 127.0.0.1::9090
  GATEWAY_ADMIN=$("$DOCKER" port "$PREFIX-gateway" 9090/tcp | head -1) # /metrics: the admin port only
  local name
  for name in catalog-2 cart-2 payments orders gateway; do wait_healthy "$name"; done
}

start_load() {
  step "loadgen: 12 shoppers, no think time, ${LOAD_SECONDS}s"
  "$DOCKER" run -d --name "$PREFIX-loadgen" --network "$NET" --read-only -e LOADGEN_THINK_MS=0,0 \
    "shop-loadgen:$TAG" --host http://gateway:8080 -u 12 -r 12 -t "${LOAD_SECONDS}s" \
    --no-telnet --quiet >/dev/null
  # Replace only once shoppers are checking out, so every path is under load.
  local _
  for _ in $(seq 1 300); do
    [[ $(checkouts) -ge 20 ]] && return
    sleep 0.1
  done
  fail "the shoppers never reached checkout"
}

# How many checkouts the gateway has answered, from its metrics (on its admin port).
checkouts() {
  curl -fs --connect-timeout 3 --max-time 10 "http://$GATEWAY_ADMIN/metrics" \
    | awk '/^http_requests_total\{/ && /route="\/api\/v1\/checkout"/ {n += $NF} END {print int(n)}'
}

# replace SERVICE OLD NEW: surge a new replica, wait until it is healthy, stop the old one.
replace() {
  local svc=$1 old=$2 new=$3 code
  service "$new" "$svc"
  wait_healthy "$new"
  "$DOCKER" stop -t 30 "$PREFIX-$old" >/dev/null
  code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$PREFIX-$old")
  echo "    $svc: $new is serving, $old stopped with exit code $code"
  [[ $code == 0 ]] || fail "$old exited with $code after docker stop"
}

rolling_update() {
  step "rolling update under load: replace every catalog and cart replica, one at a time"
  replace catalog catalog-1 catalog-3
  replace catalog catalog-2 catalog-4
  replace cart cart-1 cart-3
  replace cart cart-2 cart-4
}

# Prints the load generator's summary; sets FAILURES and REQUESTS.
finish_load() {
  "$DOCKER" wait "$PREFIX-loadgen" >/dev/null
  local summary
  summary=$("$DOCKER" logs "$PREFIX-loadgen" 2>&1 | sed -n '/=== loadgen summary ===/,$p')
  echo "$summary"
  REQUESTS=$(awk '/^requests/ {print $2}' <<<"$summary")
  FAILURES=$(awk '/^failures/ {print $2}' <<<"$summary")
  [[ -n $REQUESTS && -n $FAILURES ]] || fail "no summary from the load generator"
}

run() {
  GRACEFUL=$1
  RUN=$((RUN + 1))
  start_shop
  start_load
  rolling_update
  finish_load
  cleanup
}

run true
[[ $REQUESTS -ge 2000 ]] || fail "only $REQUESTS requests: too little load to mean anything"
[[ $FAILURES -eq 0 ]] || fail "$FAILURES requests failed during a graceful rolling update"
echo "PASS: $REQUESTS requests, none failed, while four replicas were replaced"

run false
[[ $FAILURES -gt 0 ]] || fail "negative control: without graceful shutdown some requests must fail"
echo "PASS: negative control: $FAILURES of $REQUESTS requests failed without graceful shutdown"
