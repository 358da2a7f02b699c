#!/usr/bin/env bash
# Benchmark: each service as its own release process (`shop run <service>`), shoppers from the
# load generator, then throughput, latency and every process's CPU time and peak memory.
# Usage: scripts/bench.sh [users] [seconds]      (defaults: 16 users, 30 s, no think time)
# The per-process figures are what k8s/base's resource requests and limits are sized from.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${1:-16}
SECONDS_TO_RUN=${2:-30}
WORK=$(mktemp -d)
PIDS=()
NAMES=()

step() { printf '\n==> %s\n' "$*"; }

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

build() {
  step "cargo build --release -p shop -p loadgen"
  cargo build --release --locked -p shop -p loadgen
}

# start NAME PORT [ADMIN_ADDR]: one service, configured like its container.
start() {
  local name=$1 port=$2 admin=${3:-127.0.0.1:0}
  LISTEN_ADDR=127.0.0.1:$port ADMIN_ADDR=$admin DATA_DIR=$WORK RUST_LOG=warn \
    JWT_SECRET=benchmark-secret-benchmark-secret-0123 \
    CATALOG_URL=http://127.0.0.1:50051 CART_URL=http://127.0.0.1:50052 \
    ORDERS_URL=http://127.0.0.1:50053 PAYMENTS_URL=http://127.0.0.1:50054 \
    target/release/shop run "$name" &
  PIDS+=("$!")
  NAMES+=("$name")
}

start_shop() {
  step "starting catalog, cart, orders, payments and the gateway as five processes"
  # The gateway's /readyz is on its admin port (services.txt: gateway's admin column).
  local i admin
  admin=127.0.0.1:$(awk '$1 == "gateway" { print $4 }' services.txt)
  start catalog 50051; start cart 50052; start orders 50053; start payments 50054; start gateway 8080 "$admin"
  for i in $(seq 1 100); do
    curl -fs --connect-timeout 3 --max-time 10 "http://$admin/readyz" >/dev/null && return
    sleep 0.2
  done
  echo "the shop did not become ready" >&2
  exit 1
}

load() {
  step "loadgen: $USERS users, no think time, ${SECONDS_TO_RUN}s"
  LOADGEN_THINK_MS=0,0 target/release/loadgen --host http://127.0.0.1:8080 -u "$USERS" -r "$USERS" \
    -t "${SECONDS_TO_RUN}s" --no-telnet --no-websocket --running-metrics 10 --quiet \
    | sed -n '/=== loadgen summary ===/,$p'
}

report() {
  step "per process: CPU time over the run, peak resident memory"
  local i pid ticks hz
  hz=$(getconf CLK_TCK)
  printf '%-10s %14s %12s %14s\n' SERVICE "CPU (s)" "CPU (cores)" "peak RSS (MiB)"
  for i in "${!PIDS[@]}"; do
    pid=${PIDS[$i]}
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    awk -v n="${NAMES[$i]}" -v t="$ticks" -v hz="$hz" -v s="$SECONDS_TO_RUN" \
      '/VmHWM/ {printf "%-10s %14.1f %12.2f %14.1f\n", n, t/hz, t/hz/s, $2/1024}' "/proc/$pid/status"
  done
}

build
start_shop
load
report
