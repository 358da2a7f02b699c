#!/bin/sh
# The acceptance test of a deployed shop (after scripts/kind-up.sh or scripts/minikube-up.sh): shows,
# step by step, what Kubernetes does for it: readiness, the API through the ingress, self-healing,
# scaling, a rolling update under load without errors, and network policies. Every step runs, each
# wait is bounded; the summary lists what passed, and the exit status is non-zero if anything failed.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() {
  echo "usage: $0 [-h] [BASE_URL]   BASE_URL: the shop through its ingress (default http://localhost)"
  echo "  env: TIMEOUT for each wait (default 180s), VERIFY_PROBE_IMAGE (default: k8s/versions.env)"
}
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  -*) usage >&2; exit 2 ;;
esac
[ $# -le 1 ] || { usage >&2; exit 2; }

BASE=${1:-http://localhost}
BASE=${BASE%/}
API=$BASE/api/v1
T=$(seconds "${TIMEOUT:-180}")
PROBE_IMAGE=${VERIFY_PROBE_IMAGE:-}
read_versions
PROBE_IMAGE=${PROBE_IMAGE:-$VERIFY_PROBE_IMAGE}
PROBE=verify-netpol-probe
PASSED='' FAILED='' SKIPPED=''
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shop-verify.XXXXXX")
trap 'cleanup; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

k() { kubectl -n "$NAMESPACE" "$@"; }
# kq: a one-shot request (not a watch), bounded.
kq() { kubectl -n "$NAMESPACE" --request-timeout=30s "$@"; }
why() { note "why: $*"; }
skip() {
  note "skipped: $*"
  : >"$WORK/skipped"
  exit 0
}

# check NAME FUNCTION: runs one step in a subshell (a failure ends the step, not the script).
check() {
  rm -f "$WORK/skipped"
  set +e
  (
    set -e
    "$2"
  )
  rc=$?
  set -e
  cleanup
  if [ "$rc" -ne 0 ]; then
    FAILED="$FAILED $1"
    note "FAILED: $1"
  elif [ -f "$WORK/skipped" ]; then SKIPPED="$SKIPPED $1"; else PASSED="$PASSED $1"; fi
  echo
}

# What a step leaves behind when it fails half-way: the load loop, an extra replica, the probe pod.
cleanup() {
  [ ! -f "$WORK/load.pid" ] || stop_load
  if [ -f "$WORK/scale-back" ]; then
    kq scale deployment/catalog --replicas="$(cat "$WORK/scale-back")" >/dev/null || true
    rm -f "$WORK/scale-back"
  fi
  if [ -f "$WORK/probe" ]; then
    k delete pod "$PROBE" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    rm -f "$WORK/probe"
  fi
}

# A product to ask for: GET /products/ID is a GetProduct call on some catalog pod.
product_url() {
  [ -s "$WORK/product" ] || curl -fsS --connect-timeout 3 --max-time 10 "$API/products" |
    jq -er '.products[0].id' >"$WORK/product" || die "no product from GET $API/products"
  echo "$API/products/$(cat "$WORK/product")"
}

# start_load: a shopper in the background, GET a product every 0.1 s, counting the failures.
start_load() {
  url=$(product_url)
  : >"$WORK/load.ok"
  : >"$WORK/load.failed"
  rm -f "$WORK/load.stop"
  (
    while [ ! -f "$WORK/load.stop" ]; do
      if [ "$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 3 --max-time 10 \
        -A verify-cluster-load "$url")" = 200 ]; then echo >>"$WORK/load.ok"; else echo >>"$WORK/load.failed"; fi
      sleep 0.1
    done
  ) &
  echo $! >"$WORK/load.pid"
}

# stop_load: stops the loop; LOAD_FAILED is how many of its requests failed.
stop_load() {
  : >"$WORK/load.stop"
  wait "$(cat "$WORK/load.pid")" 2>/dev/null || true # not a child when its step failed: it stops alone
  rm -f "$WORK/load.pid"
  LOAD_FAILED=$(awk 'END { print NR }' "$WORK/load.failed")
  note "load loop: $(awk 'END { print NR }' "$WORK/load.ok" "$WORK/load.failed") requests, $LOAD_FAILED failed"
}

# metric POD PATTERN: the sum of the metric lines matching PATTERN on POD's admin port, read
# through the API server's proxy (the admin port is never exposed by the ingress).
# A read that fails is an error, never a silent 0. The API server reaches the admin port when it runs
# on the pod's node (a NetworkPolicy never blocks a pod's own node), i.e. on one-node kind and
# minikube; on a multi-node cluster with the network-policies component, read Prometheus instead.
metric() {
  kubectl get --raw "/api/v1/namespaces/$NAMESPACE/pods/$1:9090/proxy/metrics" --request-timeout=10s \
    >"$WORK/metrics" || die "cannot read the metrics of $1 through the API server (port 9090)"
  awk -v p="$2" '$0 ~ p { n += $NF } END { printf "%d\n", n }' "$WORK/metrics"
}

pods_of() { kq get pods -l "app.kubernetes.io/name=$1" -o name | sed 's|^pod/||'; }

pods_ready() {
  step "1. every Deployment and StatefulSet in namespace $NAMESPACE has all its pods Ready"
  why "a Service only sends traffic to Ready pods; one that never gets Ready is crashing or failing its probe"
  # Workloads, not `wait pod --all`: a pod of a finished rollout may still be terminating.
  workloads=$(kq get deployments,statefulsets -o name)
  [ -n "$workloads" ] || die "nothing is deployed in namespace $NAMESPACE: run scripts/kind-up.sh (or deploy.sh) first"
  for workload in $workloads; do
    k rollout status "$workload" --timeout="${T}s"
  done
  kq get pods -o wide
}

api_answers() {
  step "2. the API answers through the ingress: GET $API/products"
  why "this is the path every user takes: ingress controller, Ingress rule, gateway Service, pods"
  status=$(curl -s -o "$WORK/products.json" -w '%{http_code}' --connect-timeout 3 --max-time 10 "$API/products") || true
  [ "$status" = 200 ] || die "GET $API/products answered $status (000: no connection)"
  count=$(jq -e '.products | length' "$WORK/products.json") || die "the answer is not a JSON product list"
  jq -r '.products[0].id' "$WORK/products.json" >"$WORK/product"
  note "200, $count products"
}

self_healing() {
  step "3. self-healing: a deleted catalog pod is replaced, and no request fails meanwhile"
  why "the Deployment keeps its replica count; readiness and graceful shutdown keep users from noticing"
  pod=$(pods_of catalog | head -n 1)
  [ -n "$pod" ] || die "no catalog pod"
  start_load
  k delete pod "$pod" --timeout="${T}s"
  k wait --for=condition=Ready pod -l app.kubernetes.io/name=catalog --timeout="${T}s"
  k rollout status deployment/catalog --timeout="${T}s"
  stop_load
  [ "$LOAD_FAILED" -eq 0 ] || die "$LOAD_FAILED requests failed while $pod was replaced"
  note "replaced $pod; catalog pods now: $(pods_of catalog | paste -s -d ' ' -)"
}

scaling() {
  step "4. scaling: one more catalog replica, and it receives calls"
  why "the gateway finds new replicas (headless Service) and spreads calls over all of them"
  if kq get hpa catalog >/dev/null 2>&1; then
    skip "catalog has a HorizontalPodAutoscaler, which owns its replica count"
  fi
  replicas=$(kq get deployment catalog -o jsonpath='{.spec.replicas}')
  pods_of catalog >"$WORK/before"
  echo "$replicas" >"$WORK/scale-back"
  kq scale deployment/catalog --replicas=$((replicas + 1))
  k rollout status deployment/catalog --timeout="${T}s"
  new=$(pods_of catalog | grep -vxF -f "$WORK/before" | head -n 1)
  [ -n "$new" ] || die "no new catalog pod after scaling to $((replicas + 1))"
  pattern='^grpc_server_handled_total[{].*CatalogService/GetProduct"'
  calls=$(metric "$new" "$pattern")
  url=$(product_url)
  deadline=$(($(now) + T))
  while :; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do http_status "$url" >/dev/null; done
    answered=$(metric "$new" "$pattern") # a failed read ends the step here, never counts as 0
    [ "$answered" -le "$calls" ] || break
    [ "$(now)" -lt "$deadline" ] || die "$new answered no GetProduct call within ${T}s"
  done
  note "the new pod $new answers GetProduct calls ($answered so far)"
  kq scale deployment/catalog --replicas="$replicas"
  rm -f "$WORK/scale-back"
  k rollout status deployment/catalog --timeout="${T}s"
}

# The sum of the gateway pods' counters of answers with a 5xx status.
gateway_5xx() {
  sum=0
  for pod in $(pods_of gateway); do
    sum=$((sum + $(metric "$pod" '^http_requests_total[{].*status="5[0-9][0-9]"')))
  done
  echo "$sum"
}

rolling_update() {
  step "5. rolling update under load: restart catalog and cart, no 5xx answer, no failed request"
  why "maxUnavailable 0, readiness and graceful shutdown make a release invisible to users"
  if kq get deployment loadgen >/dev/null 2>&1; then
    note "shoppers: the loadgen Deployment, and a curl loop"
  else
    note "shoppers: a curl loop (no loadgen Deployment: the loadgenerator component is off)"
  fi
  before=$(gateway_5xx)
  start_load
  kq rollout restart deployment/catalog deployment/cart
  k rollout status deployment/catalog --timeout="${T}s"
  k rollout status deployment/cart --timeout="${T}s"
  stop_load
  after=$(gateway_5xx)
  delta=$((after - before))
  note "5xx answers of the gateway during the rollout: $delta"
  [ "$delta" -eq 0 ] || die "the gateway answered $delta requests with a 5xx status during the rollout"
  [ "$LOAD_FAILED" -eq 0 ] || die "$LOAD_FAILED requests of the curl loop failed during the rollout"
}

network_policies() {
  step "6. network policies: a pod that no policy admits cannot call the gateway directly"
  why "default-deny plus one allow rule per caller: a compromised pod cannot talk to every service"
  if ! kq get networkpolicy default-deny >/dev/null 2>&1; then
    skip "no NetworkPolicy default-deny in $NAMESPACE (the network-policies component is off)"
  fi
  k delete pod "$PROBE" --ignore-not-found --timeout="${T}s" >/dev/null
  : >"$WORK/probe"
  # The namespace enforces Pod Security "restricted": the probe runs as non-root, without privileges.
  # DNS is allowed to every pod, so "bad address" means the probe is inconclusive, not blocked.
  # shellcheck disable=SC2016 # expanded by the probe's shell, not this one
  # Only a connection that never opens is BLOCKED; an HTTP error means the gateway was reached.
  script='if out=$(wget -q -T 3 -O /dev/null http://gateway/api/v1/products 2>&1); then echo REACHED;
    else case $out in *"bad address"*) echo "NO-DNS $out" ;;
      *"timed out"* | *"connect to remote"* | *"refused"*) echo "BLOCKED $out" ;; *) echo "REACHED $out" ;; esac; fi'
  overrides='{"apiVersion":"v1","spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":65534,
    "seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"'$PROBE'","image":"'$PROBE_IMAGE'",
    "command":["sh","-c",'"$(printf '%s' "$script" | jq -Rs .)"'],
    "securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}'
  # Not `run --rm -i`: attaching may miss what the probe prints before it; wait, then read its log.
  kq run "$PROBE" --image="$PROBE_IMAGE" --restart=Never --overrides="$overrides" >/dev/null
  deadline=$(($(now) + T))
  until phase=$(kq get pod "$PROBE" -o jsonpath='{.status.phase}') && [ "$phase" = Succeeded ]; do
    [ "$phase" != Failed ] || die "the probe pod failed: $(kq get pod "$PROBE" -o jsonpath='{.status.containerStatuses[0].state}')"
    [ "$(now)" -lt "$deadline" ] ||
      die "the probe pod did not finish within ${T}s (phase ${phase:-?}): $(kq get pod "$PROBE" -o jsonpath='{.status.containerStatuses[0].state}')"
    sleep 2
  done
  out=$(kq logs "$PROBE" 2>&1) || true
  case $out in
    *BLOCKED*) note "blocked, as it should be (${out#*BLOCKED })" ;;
    *REACHED*) die "the probe reached the gateway: does the cluster's CNI enforce NetworkPolicy?" ;;
    *NO-DNS*) die "inconclusive: the probe could not resolve the gateway Service (${out#*NO-DNS })" ;;
    *) die "the probe pod did not run: $out" ;;
  esac
}

summary() {
  step "summary: $(echo "$PASSED" | wc -w | tr -d ' ') passed, $(echo "$FAILED" | wc -w | tr -d ' ') failed, $(echo "$SKIPPED" | wc -w | tr -d ' ') skipped"
  [ -z "$PASSED" ] || note "passed:$PASSED"
  [ -z "$SKIPPED" ] || note "skipped:$SKIPPED"
  [ -z "$FAILED" ] || { note "FAILED:$FAILED"; exit 1; }
}

need kubectl curl jq
note "cluster: $(kubectl config current-context 2>/dev/null || echo 'in-cluster (service account)'), shop at $BASE"
echo
check pods-ready pods_ready
check api api_answers
check self-healing self_healing
check scaling scaling
check rolling-update rolling_update
check network-policies network_policies
summary
