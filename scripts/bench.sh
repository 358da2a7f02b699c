#!/usr/bin/env bash
# Benchmark: each service as its own release process (`shop run <service>`), shoppers from the
# load generator, then throughput, latency and every process's CPU time and peak memory.
# Usage: scripts/bench.sh [users] [seconds]      (defaults: 16 users, 30 s, no think time)
# The per-process figures are what k8s/base's resource requests and limits are sized from.
# Linux only: it reads each process's CPU time and peak memory from /proc.
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

# start NAME PORT ADMIN CALLS: one service of services.txt, configured like its container, with
# NAME_URL for every service it calls.
start() {
  local name=$1 port=$2 admin=$3 calls=$4 callee
  local env=(LISTEN_ADDR="127.0.0.1:$port" ADMIN_ADDR="127.0.0.1:$admin" DATA_DIR="$WORK" RUST_LOG=warn
    JWT_SECRET=benchmark-secret-benchmark-secret-0123)
  for callee in ${calls//,/ }; do
    [[ $callee == - ]] && continue
    env+=("$(echo "$callee" | tr '[:lower:]' '[:upper:]')_URL=http://127.0.0.1:$(awk -v n="$callee" '$1 == n { print $3 }' services.txt)")
  done
  env "${env[@]}" target/release/shop run "$name" &
  PIDS+=("$!")
  NAMES+=("$name")
}

start_shop() {
  step "starting every service of services.txt as its own process"
  local i name kind port admin _db calls
  while read -r name kind port admin _db calls; do
    case $name in '' | '#'*) continue ;; esac
    [[ $kind == tool ]] || start "$name" "$port" "$admin" "$calls"
  done <services.txt
  # The gateway's /readyz is on its admin port (services.txt: gateway's admin column).
  admin=127.0.0.1:$(awk '$1 == "gateway" { print $4 }' services.txt)
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
    -t "${SECONDS_TO_RUN}s" --no-telnet --running-metrics 10 --quiet \
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
