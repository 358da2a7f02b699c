#!/usr/bin/env bash
# Benchmark: what a request costs the gateway and the services, against nginx measured in the same
# run on the same machine. Prints one table per exporter setting (OTLP off, then on): throughput,
# latency p50/p99 and CPU time per request of every process involved, with the ratio to nginx.
#
#   scripts/bench-gateway.sh              # 10 s per scenario, release build
#   scripts/bench-gateway.sh --smoke      # 1 s per scenario, the debug build: it runs, it prints
#                                         # (CI); its figures are not results
#   BENCH_SECONDS=30 scripts/bench-gateway.sh
#   BENCH_SHOP=/tmp/shop-before scripts/bench-gateway.sh   # measure another build of `shop`
#                                         # (e.g. a copy made before a change) in this run's set-up
#
# Reference: nginx (Debian's nginx-light), one process each, as a reverse proxy (proxy_pass with
# upstream keepalive) in front of nginx serving the gateway's own JSON for the product from a file.
# The shop: every service of services.txt as its own process (`shop run`), RUST_LOG=info as the
# Kubernetes manifests set it (request spans on), metrics on. With OTLP on, spans go to a real
# OTLP/gRPC receiver (`xtask otlp-sink`), which counts them.
#
# Linux only: CPU time comes from /proc/PID/stat (utime + stime, every thread), memory from
# /proc/PID/status. Installs nginx-light and wrk with apt when run as root, else says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ $(uname -s) == Linux ]] ||
  { echo "bench-gateway: Linux only (it reads /proc): on a Mac, run it in a Linux VM or container" >&2; exit 1; }
((BASH_VERSINFO[0] >= 4)) || { echo "bench-gateway: needs bash 4 or later" >&2; exit 1; }

SMOKE=false
[[ ${1:-} == --smoke ]] && SMOKE=true
if $SMOKE; then SECONDS_EACH=${BENCH_SECONDS:-1}; PROFILE=debug; else SECONDS_EACH=${BENCH_SECONDS:-10}; PROFILE=release; fi
[[ $SECONDS_EACH =~ ^[1-9][0-9]*$ ]] || { echo "bench-gateway: BENCH_SECONDS must be a whole number of seconds, 1 or more" >&2; exit 1; }
CONNECTIONS=${BENCH_CONNECTIONS:-32}
# Ports of the reference, away from services.txt's.
NGINX_BACKEND_PORT=18181
NGINX_PROXY_PORT=18180
OTLP_PORT=14317
PRODUCT=chef-knife

WORK=$(mktemp -d)
PIDS=()
step() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "bench-gateway: $*" >&2; exit 1; }

# stop PID...: SIGTERM (the services drain in-flight requests), SIGKILL what is left after 15 s.
stop() {
  local pid _
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 150); do
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && break; pid=; done
    [[ -z ${pid:-} ]] && break
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
stop_all() { ((${#PIDS[@]} == 0)) || stop "${PIDS[@]}"; PIDS=(); }
cleanup() {
  local status=$? log
  stop_all
  if ((status != 0)); then
    # What the processes said is what explains a failure: their last lines.
    for log in "$WORK"/*.log "$WORK"/nginx/*.err; do
      [[ -s $log ]] && { echo "--- last lines of ${log#"$WORK"/}:"; tail -n 20 "$log"; } >&2
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

needs() {
  local missing=()
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v curl >/dev/null || missing+=(curl)
  ((${#missing[@]} == 0)) && return
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    step "installing ${missing[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null ||
      { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
    # The package starts Debian's own nginx on port 80: this script runs its own.
    if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v systemctl >/dev/null; then
      systemctl disable --now nginx >/dev/null 2>&1 || true
    fi
  else
    die "needs ${missing[*]}: install them (Debian/Ubuntu: sudo apt-get install ${missing[*]})"
  fi
}
build() {
  local flags=(--locked -p xtask)
  [[ -n ${BENCH_SHOP:-} ]] || flags+=(-p shop)
  [[ $PROFILE == release ]] && flags+=(--release)
  step "cargo build ${flags[*]}"
  cargo build "${flags[@]}"
  SHOP=${BENCH_SHOP:-target/$PROFILE/shop}
  XTASK=target/$PROFILE/xtask
}

# ticks PID: CPU time of the process so far, all threads, in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
HZ=$(getconf CLK_TCK)

wait_for() { # URL NAME: until URL answers 2xx, giving up after 30 s or when NAME's process ended
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    kill -0 "${PID_OF[$2]}" 2>/dev/null || die "$2 stopped before it was ready"
    curl -fs --connect-timeout 1 --max-time 2 -o /dev/null "$1" && return
    sleep 0.2
  done
  die "no answer from $2 at $1 within 30 s"
}

# Every port this run listens on must be free: a `shop up` left running would answer in our place.
ports_free() {
  local port taken=()
  for port in $(awk '!/^#/ && NF && $2 != "tool" { print $3, $4 }' services.txt) \
    "$NGINX_BACKEND_PORT" "$NGINX_PROXY_PORT" "$OTLP_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then taken+=("$port"); fi
  done
  ((${#taken[@]} == 0)) || die "ports in use: ${taken[*]} (is \`shop up\` running?): stop what listens there"
}

declare -A PID_OF
start_shop() { # DATA_DIR [OTLP endpoint]
  local data=$1 otlp=${2:-} name kind port admin _db calls callee env
  mkdir -p "$data"
  while read -r name kind port admin _db calls; do
    case $name in '' | '#'*) continue ;; esac
    [[ $kind == tool ]] && continue
    # Only what is set here: settings from the caller's shell (a DATABASE_URL, say) stay out.
    env=(-i PATH="$PATH" LISTEN_ADDR="127.0.0.1:$port" ADMIN_ADDR="127.0.0.1:$admin" DATA_DIR="$data"
      RUST_LOG=info JWT_SECRET=benchmark-secret-benchmark-secret-0123 OTEL_EXPORTER_OTLP_ENDPOINT="$otlp"
      OTEL_BSP_SCHEDULE_DELAY=200)
    for callee in ${calls//,/ }; do
      [[ $callee == - ]] && continue
      env+=("$(echo "$callee" | tr '[:lower:]' '[:upper:]')_URL=http://127.0.0.1:$(awk -v n="$callee" '$1 == n { print $3 }' services.txt)")
    done
    env "${env[@]}" "$SHOP" run "$name" >>"$WORK/$name.log" 2>&1 &
    PIDS+=("$!")
    PID_OF[$name]=$!
  done <services.txt
  for name in "${!PID_OF[@]}"; do
    [[ $name == nginx-* || $name == otlp-sink ]] && continue
    wait_for "http://127.0.0.1:$(awk -v n="$name" '$1 == n { print $4 }' services.txt)/readyz" "$name"
  done
  GATEWAY=http://127.0.0.1:$(awk '$1 == "gateway" { print $3 }' services.txt)
  GATEWAY_ADMIN=http://127.0.0.1:$(awk '$1 == "gateway" { print $4 }' services.txt)
  wait_for "$GATEWAY/api/v1/products/$PRODUCT" gateway
}

start_nginx() {
  mkdir -p "$WORK/static/api/v1/products" "$WORK/nginx"
  # The same bytes the gateway answers with.
  curl -fsS --max-time 5 "$GATEWAY/api/v1/products/$PRODUCT" >"$WORK/static/api/v1/products/$PRODUCT"
  local common="daemon off; master_process off; worker_processes 1; pid $WORK/nginx/\$name.pid;"
  local http="access_log off; client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
    fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
    keepalive_requests 1000000;"
  cat >"$WORK/nginx/backend.conf" <<EOF
${common//\$name/backend}
events { worker_connections 1024; }
http { $http
  open_file_cache max=100; sendfile on; tcp_nopush on;
  server { listen 127.0.0.1:$NGINX_BACKEND_PORT; root $WORK/static; default_type application/json; }
}
EOF
  cat >"$WORK/nginx/proxy.conf" <<EOF
${common//\$name/proxy}
events { worker_connections 1024; }
http { $http
  upstream backend { server 127.0.0.1:$NGINX_BACKEND_PORT; keepalive 64; }
  server { listen 127.0.0.1:$NGINX_PROXY_PORT;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
EOF
  local which
  for which in backend proxy; do
    "$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/$which.err" -c "$WORK/nginx/$which.conf" &
    PIDS+=("$!")
    PID_OF[nginx-$which]=$!
  done
  wait_for "http://127.0.0.1:$NGINX_BACKEND_PORT/api/v1/products/$PRODUCT" nginx-backend
  wait_for "http://127.0.0.1:$NGINX_PROXY_PORT/api/v1/products/$PRODUCT" nginx-proxy
}

# run LABEL "PROCESS..." wrk-args...: one scenario; appends a row per process to $WORK/rows:
# label, process, requests, req/s, p50, p99, CPU ticks. WRK_LOAD: wrk's threads and connections.
WRK_LOAD="-t1 -c$CONNECTIONS"
run() {
  local label=$1 procs=$2 out name
  shift 2
  declare -A before
  for name in $procs; do before[$name]=$(ticks "${PID_OF[$name]}"); done
  # shellcheck disable=SC2086 # WRK_LOAD is two options
  out=$(wrk $WRK_LOAD -d"${SECONDS_EACH}s" --timeout 5s --latency "$@")
  # Spans are exported in batches every 200 ms (OTEL_BSP_SCHEDULE_DELAY): let the last one go out
  # inside the measured window.
  sleep 0.5
  local requests rps p50 p99 bad
  ! grep -q 'Socket errors' <<<"$out" || die "$label: wrk saw socket errors (timeouts or resets): $out"
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  # A checkout is two requests (add, check out) after a first one (session): count checkouts.
  if ! grep -q '^checkouts:' <<<"$out"; then
    bad=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
    [[ -z $bad ]] || die "$label: $bad answers were not 2xx"
  else
    requests=$(awk '/^checkouts:/ { print $2 }' <<<"$out")
    [[ $(awk '/^failed:/ { print $2 }' <<<"$out") == 0 ]] || die "$label: failed checkouts: $out"
    rps=$((requests / SECONDS_EACH))
  fi
  [[ $requests =~ ^[0-9]+$ ]] && ((requests > 0)) || die "$label: no request completed: $out"
  for name in $procs; do
    echo "$label|$name|$requests|$rps|$p50|$p99|$(($(ticks "${PID_OF[$name]}") - before[$name]))" >>"$WORK/rows"
  done
  printf '  %-40s %8s requests\n' "$label" "$requests" >&2
}

scenarios() {
  local g=$GATEWAY n=http://127.0.0.1:$NGINX_PROXY_PORT
  : >"$WORK/rows"
  run "nginx proxy_pass -> nginx static" "nginx-proxy nginx-backend" "$n/api/v1/products/$PRODUCT"
  run "GET /api/v1/products/{id}" "gateway catalog" "$g/api/v1/products/$PRODUCT"
  run "GET /api/v1/products (20 of 28)" "gateway catalog" "$g/api/v1/products"
  run "gateway GET /healthz (admin port)" "gateway" "$GATEWAY_ADMIN/healthz"
  # One shopper per connection, each in its own wrk thread (a Lua state holds one session).
  WRK_LOAD="-t8 -c8" run "checkout, 8 shoppers (per checkout; p50/p99 per call)" "gateway catalog cart orders payments" \
    -s scripts/bench/checkout.lua "$g"
}

# table TITLE: the rows, with CPU per request (per checkout in the checkout rows) and the ratio
# to nginx's proxy (gateway rows) or to nginx's static backend (service rows).
table() {
  echo
  echo "### $1"
  echo
  echo "| scenario | process | requests | req/s | p50 | p99 | CPU per request | vs nginx |"
  echo "|---|---|---|---|---|---|---|---|"
  awk -F'|' -v hz="$HZ" '
    { us = $7 / hz * 1e6 / $3 }
    $2 == "nginx-proxy" { proxy = us }
    $2 == "nginx-backend" { backend = us }
    {
      # A checkout is several calls per service: no one-request reference to compare it with.
      ref = ($1 ~ /^checkout/ || $2 ~ /^nginx/) ? 0 : (($2 == "gateway") ? proxy : backend)
      ratio = (ref > 0) ? sprintf("%.1fx %s", us / ref, ($2 == "gateway") ? "proxy" : "static") : ""
      printf "| %s | %s | %d | %d | %s | %s | %.1f us | %s |\n", $1, $2, $3, $4, $5, $6, us, ratio
    }' "$WORK/rows"
  echo
  echo "CPU per request is what to compare: nginx runs one worker process, the services a runtime over"
  echo "every core, so requests/s and latency are not like for like. The gateway is compared with nginx's"
  echo "proxy, a service with nginx serving the product's JSON from a file (for the list, still one"
  echo "product's file). The checkout rows count checkouts (wrk -t8 -c8, each an add and a checkout)."
}

# The aim is under 20 MiB per service when idle (a pod's memory request is sized from it).
idle_memory() {
  local name rss
  echo
  printf 'Idle resident memory after start:'
  for name in $(awk '!/^#/ && NF && $2 != "tool" { print $1 }' services.txt); do
    rss=$(rss_mib "${PID_OF[$name]}")
    printf ' %s %s MiB%s' "$name" "$rss" "$(awk -v r="$rss" 'BEGIN { if (r >= 20) print " (OVER 20 MiB)" }')"
  done
  echo
}

needs
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
ports_free
build
cpus=$(getconf _NPROCESSORS_ONLN)
model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "# bench-gateway: $(date -u +%Y-%m-%dT%H:%MZ), ${BENCH_SHOP:-$PROFILE build of $(git rev-parse --short HEAD 2>/dev/null || echo '?')}, ${cpus} CPUs (${model:-unknown}), wrk -t1 -c$CONNECTIONS -d${SECONDS_EACH}s, $("$NGINX" -v 2>&1 | sed 's/.*version: //')"
$SMOKE && echo "# smoke run: a debug build and 1 s per scenario; these figures are not results"

step "OTLP off: starting the shop and the nginx reference"
start_shop "$WORK/data-otlp-off" ""
idle_memory
start_nginx
step "running the scenarios (${SECONDS_EACH} s each)"
scenarios
table "OTLP exporter off (RUST_LOG=info: request spans, metrics, request ids on)"
stop_all
unset PID_OF
declare -A PID_OF

step "OTLP on: the same with every service exporting its spans to an OTLP/gRPC receiver"
"$XTASK" otlp-sink --listen "127.0.0.1:$OTLP_PORT" >"$WORK/otlp-sink.log" &
PIDS+=("$!")
PID_OF[otlp-sink]=$!
wait_for_sink() {
  local deadline=$((SECONDS + 30))
  until grep -q 'listening' "$WORK/otlp-sink.log" 2>/dev/null; do
    kill -0 "${PID_OF[otlp-sink]}" 2>/dev/null || die "the OTLP receiver stopped"
    ((SECONDS < deadline)) || die "the OTLP receiver did not start within 30 s"
    sleep 0.1
  done
}
wait_for_sink
start_shop "$WORK/data-otlp-on" "http://127.0.0.1:$OTLP_PORT"
start_nginx
step "running the scenarios (${SECONDS_EACH} s each)"
scenarios
table "OTLP exporter on (spans batched and sent over OTLP/gRPC)"
# The services first (stopping flushes their last batch), then the receiver, which prints its count.
sink=${PID_OF[otlp-sink]}
others=()
for name in "${!PID_OF[@]}"; do [[ $name == otlp-sink ]] || others+=("${PID_OF[$name]}"); done
stop "${others[@]}"
stop "$sink"
PIDS=()
spans=$(awk '/spans received/ { print $3 }' "$WORK/otlp-sink.log")
echo
echo "Spans the OTLP receiver counted: ${spans:-none}"
[[ ${spans:-0} -gt 0 ]] || die "the OTLP receiver counted no spans: the exporter was not on"

